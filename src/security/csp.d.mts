export declare const CSP: string;
export declare const DEV_CSP: string;
export declare const CSP_META: string;
