import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { absoluteUrl, shopOrigin, unwrap } from "../../../api/client";
import { Empty } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import type { Product, ProductImage } from "../../types";
import { SortableGrid } from "../../ui/SortableGrid";
import { useToast } from "../../ui/toast";
import { IMAGE_TYPES, moveItem, productImageUpload } from "./images";

function AltText({ product, image }: { product: Product; image: ProductImage }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [alt, setAlt] = useState(image.alt);
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/api/admin/v1/products/{product_id}/images/{image_id}", {
          params: { path: { product_id: product.id, image_id: image.id } },
          body: { alt: alt.trim() },
        }),
      ),
    onSuccess: () => {
      toast.success("Alt text saved.");
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).product(product.id) });
    },
    onError: (error) => toast.error(error),
  });
  const id = `alt-${image.id}`;
  return (
    <form
      className="field"
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <label htmlFor={id}>Alt text</label>
      <input id={id} value={alt} maxLength={255} onChange={(e) => setAlt(e.target.value)} placeholder="What the image shows" />
      <button type="submit" className="secondary" disabled={save.isPending || alt.trim() === image.alt}>
        Save alt text
      </button>
    </form>
  );
}

/** A product's images: upload several, edit each one's alt text, reorder by dragging, delete. */
export function ImageManager({ product }: { product: Product }) {
  const { api, slug, domain } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [progress, setProgress] = useState<number | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const origin = shopOrigin(domain);
  const key = queryKeys.shop(slug).product(product.id);
  const refresh = () => queryClient.invalidateQueries({ queryKey: key });

  const upload = useMutation({
    mutationFn: async (files: File[]) => {
      for (const [index, file] of files.entries()) {
        await productImageUpload({
          api,
          origin,
          productId: product.id,
          file,
          alt: "",
          onProgress: (fraction) => setProgress((index + fraction) / files.length),
        });
      }
      return files.length;
    },
    onSuccess: (count) => toast.success(count === 1 ? "Image uploaded." : `${count} images uploaded.`),
    onError: (error) => toast.error(error),
    onSettled: () => {
      setProgress(null);
      if (inputRef.current) inputRef.current.value = "";
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (imageId: number) =>
      unwrap(api.DELETE("/api/admin/v1/products/{product_id}/images/{image_id}", { params: { path: { product_id: product.id, image_id: imageId } } })),
    onSuccess: () => {
      toast.success("Image deleted.");
      void refresh();
    },
    onError: (error) => toast.error(error),
  });
  const reorder = useMutation({
    mutationFn: (order: number[]) =>
      unwrap(api.POST("/api/admin/v1/products/{product_id}/images/reorder", { params: { path: { product_id: product.id } }, body: { order } })),
    // Show the new order at once; the answer (or a refetch after a failure) settles it.
    onMutate: (order) => {
      const byId = new Map(product.images.map((image) => [image.id, image]));
      queryClient.setQueryData<Product>(key, (old) => (old ? { ...old, images: order.map((id) => byId.get(id)!).filter(Boolean) } : old));
    },
    onSuccess: () => toast.success("Image order saved."),
    onError: (error) => {
      toast.error(error);
      void refresh();
    },
  });

  return (
    <section aria-labelledby="images-heading">
      <h2 id="images-heading">Images</h2>
      <p className="hint muted">The first image is the one shoppers see first. Drag the cards, or use the arrows, to reorder.</p>
      {product.images.length === 0 && <Empty>No images yet.</Empty>}
      <SortableGrid
        items={product.images}
        itemKey={(image) => image.id}
        itemLabel={(image, index) => `image ${index + 1}${image.alt ? ` (${image.alt})` : ""}`}
        disabled={reorder.isPending}
        onMove={(from, to) => reorder.mutate(moveItem(product.images, from, to).map((image) => image.id))}
        render={(image) => (
          <>
            {image.url ? (
              <img src={absoluteUrl(image.thumbnail_url ?? image.url, origin)} alt={image.alt || product.title} />
            ) : (
              <span className="pending">{image.status}</span>
            )}
            <AltText product={product} image={image} />
            <button type="button" className="danger" onClick={() => remove.mutate(image.id)} disabled={remove.isPending}>
              Delete image
            </button>
          </>
        )}
      />
      <div className="field">
        <label htmlFor="image-file">Upload images</label>
        <input
          id="image-file"
          ref={inputRef}
          type="file"
          multiple
          accept={IMAGE_TYPES}
          disabled={upload.isPending}
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            if (files.length) upload.mutate(files);
          }}
        />
      </div>
      {progress !== null && (
        <div>
          <label htmlFor="upload-progress">Uploading</label>
          <progress id="upload-progress" max={1} value={progress}>
            {Math.round(progress * 100)}%
          </progress>
        </div>
      )}
    </section>
  );
}
