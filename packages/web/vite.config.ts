import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

/** Libraries that change rarely get their own long-cached chunks; pages are split by React.lazy. */
function vendorChunk(id: string): string | undefined {
  if (!id.includes('node_modules')) return undefined;
  if (/[\\/]node_modules[\\/](echarts|zrender)[\\/]/.test(id)) return 'echarts';
  if (/[\\/]node_modules[\\/](react|react-dom|scheduler|react-router|react-router-dom)[\\/]/.test(id))
    return 'react';
  if (/[\\/]node_modules[\\/](i18next|react-i18next|dayjs)[\\/]/.test(id)) return 'i18n';
  return undefined;
}

export default defineConfig(({ mode }) => ({
  base: '/',
  plugins: [react()],
  resolve: {
    // Libraries hoisted to the workspace root (@dnd-kit) would otherwise find the root's React 18
    // while the app runs React 19 from packages/web: one copy of React, this package's.
    dedupe: ['react', 'react-dom'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // antd is one large library used by every page; it is split by its own module graph.
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        manualChunks: vendorChunk,
      },
    },
  },
  server: {
    port: 5173,
    // `vite` proxies the API to a running meterline (METERLINE_API_URL picks another one).
    proxy: {
      '/api': {
        target: loadEnv(mode, '.', 'METERLINE_').METERLINE_API_URL || 'http://localhost:8080',
        changeOrigin: false,
      },
    },
  },
}));
