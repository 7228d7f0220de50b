import type { Components } from "./types";

export type Rendition = Components["RenditionOutput"];

/** `srcset` from an image's stored widths (`url 320w, ...`), or undefined without any. */
export function srcSetOf(renditions: readonly Rendition[] | undefined): string | undefined {
  return renditions?.length ? renditions.map((r) => `${r.url} ${r.width}w`).join(", ") : undefined;
}

interface PictureProps {
  /** The stored widths (narrowest first); `fallback` when there are none yet. */
  renditions: readonly Rendition[] | undefined;
  fallback: string | null | undefined;
  alt: string;
  /** How wide the layout draws it, as the `sizes` attribute says it (the browser picks a width from it). */
  sizes: string;
  width: number;
  height: number;
  /** The first picture above the fold: loaded at once, first. Every other one waits until it is near. */
  priority?: boolean;
  className?: string;
}

/**
 * A product picture: `srcset` over its stored widths with `sizes`, so a phone
 * fetches a 320 px file where a wide screen at 2x fetches 1280; lazy unless
 * it is the page's main picture. width/height reserve its box (no layout shift).
 */
export function Picture({ renditions, fallback, alt, sizes, width, height, priority = false, className }: PictureProps) {
  const srcSet = srcSetOf(renditions);
  // The src for browsers without srcset: a middle width, else what there is.
  const src = renditions?.length ? renditions[Math.min(1, renditions.length - 1)]!.url : (fallback ?? "");
  return (
    <img
      className={className}
      src={src}
      srcSet={srcSet}
      sizes={srcSet ? sizes : undefined}
      alt={alt}
      width={width}
      height={height}
      loading={priority ? "eager" : "lazy"}
      decoding={priority ? undefined : "async"}
      fetchPriority={priority ? "high" : undefined}
    />
  );
}
