export declare function serveStatic(root: string, port?: number, mounts?: Record<string, string>): Promise<{ url: string; close: () => Promise<void> }>;
