import { useEffect, useMemo, useRef } from "react";
import { SortableGrid } from "../../ui/SortableGrid";
import { IMAGE_TYPES, moveItem } from "./images";

export interface PendingImage {
  id: number;
  file: File;
  alt: string;
}

/** Images chosen before the product exists: previewed, described and ordered; sent right after the create. */
export function NewImages({ images, onChange }: { images: PendingImage[]; onChange: (images: PendingImage[]) => void }) {
  const nextId = useRef(1);
  const previews = useMemo(() => new Map(images.map((image) => [image.id, URL.createObjectURL(image.file)])), [images]);
  useEffect(() => () => previews.forEach((url) => URL.revokeObjectURL(url)), [previews]);
  return (
    <fieldset>
      <legend>Images</legend>
      <SortableGrid
        items={images}
        itemKey={(image) => image.id}
        itemLabel={(image) => image.file.name}
        onMove={(from, to) => onChange(moveItem(images, from, to))}
        render={(image) => (
          <>
            <img src={previews.get(image.id)} alt={image.alt || image.file.name} />
            <div className="field">
              <label htmlFor={`new-alt-${image.id}`}>Alt text for {image.file.name}</label>
              <input
                id={`new-alt-${image.id}`}
                value={image.alt}
                maxLength={255}
                placeholder="What the image shows"
                onChange={(e) => onChange(images.map((i) => (i.id === image.id ? { ...i, alt: e.target.value } : i)))}
              />
            </div>
            <button type="button" className="secondary" onClick={() => onChange(images.filter((i) => i.id !== image.id))}>
              Remove {image.file.name}
            </button>
          </>
        )}
      />
      <div className="field">
        <label htmlFor="new-image-files">Add images</label>
        <input
          id="new-image-files"
          type="file"
          multiple
          accept={IMAGE_TYPES}
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            onChange([...images, ...files.map((file) => ({ id: nextId.current++, file, alt: "" }))]);
            e.target.value = "";
          }}
        />
        <small className="hint">They are uploaded as soon as the product is created, in this order.</small>
      </div>
    </fieldset>
  );
}
