// Vite builds the app into the Django package: Django serves index.html at "/" and every SPA route,
// and the hashed assets through its static files under /static/app/.
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

const djangoServer = 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/static/app/',
  plugins: [vue()],
  resolve: {
    alias: { '@': new URL('./src', import.meta.url).pathname },
  },
  define: {
    // vue-i18n feature flags: Composition API only, no devtools in production. Messages are compiled
    // by the JIT compiler (no eval / new Function), so the strict script-src 'self' CSP holds.
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __INTLIFY_JIT_COMPILATION__: true,
    __INTLIFY_DROP_MESSAGE_COMPILER__: false,
  },
  build: {
    outDir: '../src/yunyi/static/app',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` against a running Django server (`make run`).
    proxy: {
      '/api': djangoServer,
      '/o': djangoServer,
      '/admin': djangoServer,
      '/static/admin': djangoServer,
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.spec.ts'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
})
