import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { newIdempotencyKey, shopOrigin, unwrap } from "../../../api/client";
import { describeError } from "../../../api/problems";
import { ErrorMessage, mergeErrors, type FieldErrors } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import { useToast } from "../../ui/toast";
import { productImageUpload } from "./images";
import { NewImages, type PendingImage } from "./NewImages";
import { ProductFieldset } from "./ProductFieldset";
import { PRODUCT_FORM_FIELDS, productBody, validateProduct, type ProductFields } from "./productForm";
import { VariantInputs } from "./VariantInputs";
import { EMPTY_VARIANT, validateVariant, variantBody, type VariantRow } from "./variants";

/** Create a product with its variants and images in one flow: the images go up right after the create. */
export function NewProductPage() {
  const { api, slug, domain } = useShopApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [fields, setFields] = useState<ProductFields>({
    title: "",
    description: "",
    status: "active",
    category: "",
    attributes: {},
    vendor: "",
    tags: "",
  });
  const [variants, setVariants] = useState<VariantRow[]>([{ ...EMPTY_VARIANT }]);
  const [images, setImages] = useState<PendingImage[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [variantErrors, setVariantErrors] = useState<Record<string, string>[]>([]);
  const [stage, setStage] = useState<string | null>(null);
  // One key per form: a double submit or a retry after a network error creates one product.
  const idempotencyKey = useRef(newIdempotencyKey());
  const create = useMutation({
    mutationFn: async () => {
      setStage("Saving the product…");
      const product = await unwrap(
        api.POST("/api/admin/v1/products", {
          params: { header: { "Idempotency-Key": idempotencyKey.current } },
          body: { ...productBody(fields), variants: variants.map(variantBody) },
        }),
      );
      const failed: string[] = [];
      for (const [index, image] of images.entries()) {
        setStage(`Uploading image ${index + 1} of ${images.length}…`);
        try {
          await productImageUpload({ api, origin: shopOrigin(domain), productId: product.id, file: image.file, alt: image.alt.trim() });
        } catch (error) {
          failed.push(`${image.file.name}: ${describeError(error)}`);
        }
      }
      return { product, failed };
    },
    onSuccess: ({ product, failed }) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).products() });
      const uploaded = images.length - failed.length;
      toast.success(uploaded ? `Product created with ${uploaded} image${uploaded === 1 ? "" : "s"}.` : "Product created.");
      for (const failure of failed) toast.error(`Not uploaded: ${failure} Add it again on this page.`);
      navigate(`../${product.id}`, { relative: "path" });
    },
    onError: () => {
      idempotencyKey.current = newIdempotencyKey();
    },
    onSettled: () => setStage(null),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = validateProduct(fields);
    const perVariant = variants.map(validateVariant);
    setErrors(found);
    setVariantErrors(perVariant);
    if (!Object.keys(found).length && perVariant.every((e) => !Object.keys(e).length)) create.mutate();
  };
  const all = mergeErrors(errors, create.error);
  return (
    <>
      <h1>New product</h1>
      <form onSubmit={onSubmit} noValidate>
        <ProductFieldset fields={fields} set={(f) => setFields({ ...fields, ...f })} errors={all} />
        <NewImages images={images} onChange={setImages} />
        {variants.map((row, index) => (
          <fieldset key={index}>
            <legend>Variant {index + 1}</legend>
            <VariantInputs
              index={index}
              row={row}
              errors={variantErrors[index] ?? {}}
              set={(next) => setVariants(variants.map((v, i) => (i === index ? next : v)))}
            />
            {variants.length > 1 && (
              <button type="button" className="secondary" onClick={() => setVariants(variants.filter((_, i) => i !== index))}>
                Remove variant {index + 1}
              </button>
            )}
          </fieldset>
        ))}
        <div className="actions">
          <button type="button" className="secondary" onClick={() => setVariants([...variants, { ...EMPTY_VARIANT }])}>
            Add a variant
          </button>
        </div>
        <ErrorMessage error={create.error} fieldsShown={PRODUCT_FORM_FIELDS} />
        <button type="submit" disabled={create.isPending}>
          {stage ?? "Create product"}
        </button>
      </form>
    </>
  );
}
