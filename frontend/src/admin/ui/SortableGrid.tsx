import { useState, type Key, type ReactNode } from "react";
import { Icon } from "./Icon";

/**
 * Cards the merchant reorders by dragging, or with "earlier"/"later" buttons
 * (keyboard and screen readers). `onMove(from, to)` reports each move.
 */
export function SortableGrid<T>({
  items,
  itemKey,
  itemLabel,
  onMove,
  render,
  disabled = false,
}: {
  items: readonly T[];
  itemKey: (item: T) => Key;
  itemLabel: (item: T, index: number) => string;
  onMove: (from: number, to: number) => void;
  render: (item: T, index: number) => ReactNode;
  disabled?: boolean;
}) {
  const [dragged, setDragged] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  return (
    <ul className="image-list">
      {items.map((item, index) => {
        const label = itemLabel(item, index);
        return (
          <li
            key={itemKey(item)}
            className={`image-item${dragged === index ? " dragging" : ""}${over === index && dragged !== index ? " drop-target" : ""}`}
            draggable={!disabled}
            onDragStart={(event) => {
              event.dataTransfer.effectAllowed = "move";
              event.dataTransfer.setData("text/plain", String(index));
              setDragged(index);
            }}
            onDragOver={(event) => {
              if (dragged === null) return;
              event.preventDefault();
              setOver(index);
            }}
            onDragLeave={() => setOver((now) => (now === index ? null : now))}
            onDrop={(event) => {
              event.preventDefault();
              if (dragged !== null && dragged !== index) onMove(dragged, index);
              setDragged(null);
              setOver(null);
            }}
            onDragEnd={() => {
              setDragged(null);
              setOver(null);
            }}
          >
            <span className="drag-handle" aria-hidden="true">
              <Icon name="grip" size={16} /> {index + 1}. Drag to reorder
            </span>
            {render(item, index)}
            <div className="actions">
              <button
                type="button"
                className="secondary"
                aria-label={`Move ${label} earlier`}
                disabled={disabled || index === 0}
                onClick={() => onMove(index, index - 1)}
              >
                ←
              </button>
              <button
                type="button"
                className="secondary"
                aria-label={`Move ${label} later`}
                disabled={disabled || index === items.length - 1}
                onClick={() => onMove(index, index + 1)}
              >
                →
              </button>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
