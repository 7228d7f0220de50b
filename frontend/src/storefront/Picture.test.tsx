import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { ProductCard } from "./pages/Home";
import { Picture, srcSetOf } from "./Picture";

const widths = [160, 320, 640].map((width) => ({ url: `/media/a-${width}w.webp`, width, height: width * 2 }));

describe("product pictures", () => {
  it("offer every stored width, lazily unless they are the first above the fold", () => {
    render(<Picture renditions={widths} fallback="/media/a.webp" alt="Mug" sizes="64px" width={64} height={64} />);
    const image = screen.getByRole("img", { name: "Mug" });
    expect(image).toHaveAttribute("srcset", "/media/a-160w.webp 160w, /media/a-320w.webp 320w, /media/a-640w.webp 640w");
    expect(image).toHaveAttribute("sizes", "64px");
    expect(image).toHaveAttribute("loading", "lazy");
    expect(image).not.toHaveAttribute("fetchpriority");
  });

  it("fall back to the thumbnail while the widths are not made yet", () => {
    render(<Picture renditions={[]} fallback="/media/a.webp" alt="Mug" sizes="64px" width={64} height={64} />);
    const image = screen.getByRole("img", { name: "Mug" });
    expect(image).toHaveAttribute("src", "/media/a.webp");
    expect(image).not.toHaveAttribute("srcset");
    expect(image).not.toHaveAttribute("sizes");
    expect(srcSetOf(undefined)).toBeUndefined();
  });

  it("load the first product card's picture at once, first", () => {
    const product = {
      id: 1,
      title: "Mug",
      slug: "mug",
      description: "",
      category: null,
      attributes: {},
      vendor: "",
      tags: [],
      attributes_shown: [],
      variants: [{ id: 2, sku: "M", title: "", options: {}, price: { amount: "5.00", currency: "EUR" as const }, compare_at_price: null, in_stock: true }],
      images: [{ id: 3, url: "/media/a.png", thumbnail_url: "/media/a.webp", renditions: widths, alt: "", position: 0, status: "ready" }],
    };
    render(
      <MemoryRouter>
        <ul>
          <ProductCard product={product} priority />
          <ProductCard product={{ ...product, id: 9, title: "Cup" }} />
        </ul>
      </MemoryRouter>,
    );
    const [first, second] = screen.getAllByRole("img");
    expect(first).toHaveAttribute("loading", "eager");
    expect(first).toHaveAttribute("fetchpriority", "high");
    expect(first).toHaveAttribute("sizes", "(max-width: 479px) calc(100vw - 2.5rem), 280px");
    expect(second).toHaveAttribute("loading", "lazy");
  });
});
