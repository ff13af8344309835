/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Where the API is; same origin (the API serves this app at /app) when unset. */
  readonly VITE_API_BASE_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
