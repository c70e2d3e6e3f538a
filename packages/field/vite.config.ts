import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** Libraries that change rarely get their own long-cached chunks. */
function vendorChunk(id: string): string | undefined {
  if (!id.includes('node_modules')) return undefined;
  if (/[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/.test(id)) return 'react';
  if (/[\\/]node_modules[\\/]antd-mobile[\\/]/.test(id)) return 'antd-mobile';
  return undefined;
}

/**
 * The handheld app, served by the server at /field/. The service worker precaches the app shell
 * only; the API is never cached by it (the day's data lives in IndexedDB, see src/db.ts).
 */
export default defineConfig(({ mode }) => ({
  base: '/field/',
  plugins: [
    react(),
    VitePWA({
      strategies: 'generateSW',
      registerType: 'autoUpdate',
      injectRegister: false,
      scope: '/field/',
      base: '/field/',
      includeAssets: ['icon.svg', 'apple-touch-icon.png'],
      manifest: {
        id: '/field/',
        name: '抄表机 / meterline field',
        short_name: '抄表机',
        description: 'meterline 抄表 — 离线抄表、拍照、定位、签字、联网上传',
        lang: 'zh-CN',
        start_url: '/field/',
        scope: '/field/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: '#1677ff',
        background_color: '#f5f7fa',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icon-512-maskable.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // Every page path of the app opens the precached shell, also offline.
        navigateFallback: '/field/index.html',
        navigateFallbackAllowlist: [/^\/field(\/|$)/],
        navigateFallbackDenylist: [/^\/api\//],
        // The API is deliberately not cached here: see src/db.ts and src/sync/.
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
    }),
  ],
  resolve: {
    // antd-mobile and react-i18next sit in the root node_modules, where an older React lives too:
    // one React for the whole bundle.
    dedupe: ['react', 'react-dom'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        manualChunks: vendorChunk,
      },
    },
  },
  server: {
    port: 5174,
    proxy: {
      '/api': {
        target: loadEnv(mode, '.', 'METERLINE_').METERLINE_API_URL || 'http://localhost:8080',
        changeOrigin: false,
      },
    },
  },
}));
