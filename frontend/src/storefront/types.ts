import type { components } from "../api/generated/shop";

type S = components["schemas"];
export type Product = S["StorefrontProductOutput"];
export type Variant = S["StorefrontVariantOutput"];
export type ProductPage = S["StorefrontProductPageOutput"];
export type Facets = S["FacetsOutput"];
export type Category = S["StorefrontCategoryOutput"];
export type Cart = S["CartOutput"];
export type CartLine = S["CartLineOutput"];
export type Order = S["OrderOutput"];
export type PlacedOrder = S["PlacedOrderOutput"];
export type Shop = S["StorefrontShopOutput"];
export type Image = S["ImageOutput"];
export type Components = S;
/** A category in the storefront's tree (children are the same shape). */
export type CategoryNode = { id: number; name: string; slug: string; children?: CategoryNode[] };
export type Theme = S["ThemeOutput"];
export type ContentPage = S["ContentPageOutput"];
export type ShippingAddress = S["ShippingAddressInputRequest"];
export type ShippingOffer = S["ShippingOfferOutput"];
