// Heatmap rendering: G×G map → bilinear upsample → colour map → alpha-blend over the photo.
//
//   renderHeatmapCpu(values, 14, photoPixels, { width, height }, { colorMap: 'turbo', opacity: 0.5 })  // reference
//   await drawHeatmap2d(canvas, values, 14, bitmap, opts)          // WASM path: 2D canvas
//   const r = await GpuHeatmapRenderer.create(device); await r.draw(canvas, values, 14, bitmap, opts); r.destroy();
export type { PixelImage, RenderOptions, SourceRect } from './types';
export { COLOR_MAPS, colorMapLut, LUT_ENTRIES } from './colorMaps';
export { blendHeatmapOnto, renderHeatmapCpu, validateRenderInputs } from './reference';
export { drawHeatmap2d, ScaledPhotoCache, type DrawableImage } from './canvas2d';
export { GpuHeatmapRenderer } from './gpuHeatmapRenderer';
