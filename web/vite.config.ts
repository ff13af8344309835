import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API serves the built app at /app/; in development, /api goes to the API on port 3000.
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: { '/api': 'http://localhost:3000' },
  },
});
