// The history thumbnail: the photo's centre square (the part the model sees, so a stored heatmap lines up
// with it), as a small JPEG data URL.
import type { PhotoHandle } from '../engine/types';

export const THUMBNAIL_SIZE = 256;

export async function makeThumbnail(photo: PhotoHandle, size = THUMBNAIL_SIZE): Promise<string> {
  const { bitmap } = photo;
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('2D canvas unavailable');
  context.imageSmoothingQuality = 'high';
  context.fillStyle = '#fff';
  context.fillRect(0, 0, size, size);
  context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
  return canvas.toDataURL('image/jpeg', 0.8);
}

export function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`could not load image ${src.slice(0, 40)}`));
    image.src = src;
  });
}
