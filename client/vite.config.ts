import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The server in development (`server/`, PORT 3000); the page talks to it through this proxy. */
const SERVER = 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    // Through the proxy, x-request-bytes counts the proxy's request, not the browser's: measure wire
    // cost against the built page served by the server itself.
    proxy: {
      '/api': { target: SERVER },
      '/socket.io': { target: SERVER, ws: true },
    },
  },
});
