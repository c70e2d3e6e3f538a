import { inflateSync } from 'node:zlib';

/**
 * Reading a PDF's text in tests (bill notices), without a PDF library: pdfkit's output is plain
 * enough — uncompressed object headers, Flate streams, ToUnicode maps for the embedded fonts.
 */

/** The objects of a PDF with their (inflated) streams, by object number. */
function pdfObjects(pdf: Buffer): Map<number, { dict: string; stream: string | null }> {
  const text = pdf.toString('latin1');
  const out = new Map<number, { dict: string; stream: string | null }>();
  for (const m of text.matchAll(/(\d+) 0 obj\s*([\s\S]*?)endobj/g)) {
    const body = m[2]!;
    const at = body.indexOf('stream');
    if (at < 0) {
      out.set(Number(m[1]), { dict: body, stream: null });
      continue;
    }
    const dict = body.slice(0, at);
    const start = at + 'stream'.length + (body[at + 6] === '\r' ? 2 : 1);
    const raw = Buffer.from(body.slice(start, body.lastIndexOf('endstream')), 'latin1');
    const stream = dict.includes('/FlateDecode')
      ? inflateSync(raw).toString('latin1')
      : raw.toString('latin1');
    out.set(Number(m[1]), { dict, stream });
  }
  return out;
}

/** A ToUnicode CMap as pdfkit writes it (bfrange with arrays): code → text. */
function parseCmap(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const m of cmap.matchAll(/<([0-9a-f]+)>\s*<([0-9a-f]+)>\s*\[([^\]]*)\]/gi)) {
    const start = Number.parseInt(m[1]!, 16);
    [...m[3]!.matchAll(/<([0-9a-f ]+)>/gi)].forEach((u, i) => {
      const units = u[1]!
        .trim()
        .split(/\s+/)
        .map((h) => Number.parseInt(h, 16));
      map.set(start + i, String.fromCharCode(...units));
    });
  }
  return map;
}

/**
 * The text of each page, decoded through the fonts' ToUnicode maps: enough to find a bill number in
 * the notice without a PDF library.
 */
export function pdfPages(pdf: Buffer): string[] {
  const objects = pdfObjects(pdf);
  const fontMaps = new Map<number, Map<number, string>>();
  for (const [num, o] of objects) {
    const ref = /\/ToUnicode (\d+) 0 R/.exec(o.dict);
    if (ref) fontMaps.set(num, parseCmap(objects.get(Number(ref[1]))?.stream ?? ''));
  }
  // Font resource names (/F1) → font objects, from every resources dictionary.
  const names = new Map<string, number>();
  for (const o of objects.values())
    for (const m of o.dict.matchAll(/\/(F\d+) (\d+) 0 R/g)) names.set(m[1]!, Number(m[2]));
  const pages: string[] = [];
  const pageObjects = [...objects.values()].filter((o) => /\/Type \/Page\b/.test(o.dict));
  for (const page of pageObjects) {
    const contents = /\/Contents (\d+) 0 R/.exec(page.dict);
    const stream = contents ? (objects.get(Number(contents[1]))?.stream ?? '') : '';
    let map: Map<number, string> | undefined;
    let text = '';
    for (const m of stream.matchAll(/\/(F\d+) [\d.]+ Tf|\[((?:<[0-9a-f]*>|[^\]])*)\] TJ|(ET)/gi)) {
      if (m[1]) map = fontMaps.get(names.get(m[1]) ?? -1);
      else if (m[3]) text += '\n';
      else
        for (const hex of m[2]!.matchAll(/<([0-9a-f]*)>/gi))
          for (let i = 0; i < hex[1]!.length; i += 4)
            text += map?.get(Number.parseInt(hex[1]!.slice(i, i + 4), 16)) ?? '?';
    }
    pages.push(text);
  }
  return pages;
}

export function pageCount(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
}
