/**
 * Renders public/icon.svg to the PNG icons of the web manifest with the machine's Chromium.
 * Run after changing the SVG: `npx tsx packages/field/scripts/make-icons.ts`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const PUBLIC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const svg = await readFile(path.join(PUBLIC, 'icon.svg'), 'utf8');
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const targets: { file: string; size: number; maskable?: boolean }[] = [
  { file: 'icon-192.png', size: 192 },
  { file: 'icon-512.png', size: 512 },
  { file: 'apple-touch-icon.png', size: 180 },
  // Maskable: the artwork inside the safe zone (80 %) on a full-bleed background.
  { file: 'icon-512-maskable.png', size: 512, maskable: true },
];
for (const t of targets) {
  const page = await browser.newPage({ viewport: { width: t.size, height: t.size } });
  const inner = t.maskable ? Math.round(t.size * 0.8) : t.size;
  await page.setContent(
    `<html><body style="margin:0;background:${t.maskable ? '#1677ff' : 'transparent'};display:flex;` +
      `align-items:center;justify-content:center;width:${t.size}px;height:${t.size}px">` +
      `<div style="width:${inner}px;height:${inner}px">${svg.replace('<svg ', `<svg width="${inner}" height="${inner}" `)}</div></body></html>`,
  );
  await writeFile(path.join(PUBLIC, t.file), await page.screenshot({ omitBackground: !t.maskable }));
  await page.close();
}
await browser.close();
console.log(`icons written to ${PUBLIC}`);
