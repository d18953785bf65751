// What an explanation run returns, on either backend.

export interface ExplainResult {
  /** G×G patch map, row-major, min–max normalised to [0, 1] (all zeros when the map is flat). */
  values: Float32Array;
  /** The same map before normalisation. */
  raw: Float32Array;
  /** Range of `raw`. */
  min: number;
  max: number;
  /** GPU time of the kernels when the device has 'timestamp-query'; absent otherwise. */
  gpuMs?: number;
}
