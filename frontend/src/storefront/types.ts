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
export type ShippingAddress = S["ShippingAddressInputRequest"];
export type ShippingOffer = S["ShippingOfferOutput"];
