// Sending a product's images: start the upload, send the bytes to storage, confirm.
import { unwrap, type ShopClient } from "../../../api/client";
import type { ProductImage } from "../../types";
import { sendUpload } from "../../upload";

export async function productImageUpload({
  api,
  origin,
  productId,
  file,
  alt,
  onProgress = () => {},
}: {
  api: ShopClient;
  origin: string;
  productId: number;
  file: File;
  alt: string;
  onProgress?: (fraction: number) => void;
}): Promise<ProductImage> {
  const image = await unwrap(
    api.POST("/api/admin/v1/products/{product_id}/images", {
      params: { path: { product_id: productId } },
      body: { filename: file.name, content_type: file.type || "application/octet-stream", size: file.size, alt },
    }),
  );
  await sendUpload(image.upload, file, origin, onProgress);
  return unwrap(
    api.POST("/api/admin/v1/products/{product_id}/images/{image_id}/confirm", {
      params: { path: { product_id: productId, image_id: image.id } },
    }),
  );
}

/** `items` with the one at `from` moved to `to` (both indexes into `items`). */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const next = [...items];
  if (from < 0 || from >= next.length || to < 0 || to >= next.length) return next;
  const [moved] = next.splice(from, 1);
  next.splice(to, 0, moved as T);
  return next;
}

export const IMAGE_TYPES = "image/jpeg,image/png,image/webp,image/gif";
