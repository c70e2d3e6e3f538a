/**
 * Photos from the camera are compressed on the phone before they are queued: the longer side to
 * at most PHOTO_MAX_SIDE_PX, JPEG at PHOTO_QUALITY; a photo still above PHOTO_MAX_BYTES is
 * compressed again, smaller, so a batch of readings stays within the server's body limit.
 */
export const PHOTO_MAX_SIDE_PX = 1280;
export const PHOTO_QUALITY = 0.7;
export const PHOTO_MAX_BYTES = 400_000;
const FALLBACK_STEPS: { sidePx: number; quality: number }[] = [
  { sidePx: 1024, quality: 0.6 },
  { sidePx: 800, quality: 0.5 },
];

async function loadImage(file: Blob): Promise<ImageBitmap | HTMLImageElement> {
  if (typeof createImageBitmap === 'function') {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      // fall back to an <img>
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function encode(image: ImageBitmap | HTMLImageElement, sidePx: number, quality: number): Promise<Blob> {
  const width = 'naturalWidth' in image ? image.naturalWidth : image.width;
  const height = 'naturalHeight' in image ? image.naturalHeight : image.height;
  const scale = Math.min(1, sidePx / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d canvas');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('could not encode the photo'))),
      'image/jpeg',
      quality,
    ),
  );
}

export async function compressPhoto(file: Blob): Promise<Blob> {
  const image = await loadImage(file);
  try {
    let blob = await encode(image, PHOTO_MAX_SIDE_PX, PHOTO_QUALITY);
    for (const step of FALLBACK_STEPS) {
      if (blob.size <= PHOTO_MAX_BYTES) break;
      blob = await encode(image, step.sidePx, step.quality);
    }
    return blob;
  } finally {
    if ('close' in image) image.close();
  }
}
