type Gray = ArrayLike<number>;
export declare const PAIR_TOLERANCE: { imageMeanAbsDiff: number; maskDice: number };
export declare function meanAbsDiff(a: Gray, b: Gray): number;
export declare function maxAbsDiff(a: Gray, b: Gray): number;
export declare function dice(a: Gray, b: Gray): number;
