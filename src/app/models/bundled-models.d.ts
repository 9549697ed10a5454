// The bundled model folders, listed at build time by the `bundled-models` plugin in vite.config.ts.
declare module 'virtual:bundled-models' {
  const models: readonly {
    /** Folder under public/models/ (the `?model=` value). */
    folder: string;
    name: string;
    resolution: [number, number] | null;
    steps: number | null;
    /** The folder's text documents (*.md, *.txt), e.g. DATA-LICENSE.txt and the model card README.md. */
    documents: string[];
  }[];
  export default models;
}
