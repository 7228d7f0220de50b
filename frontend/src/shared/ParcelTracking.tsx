/** How to follow one shipped parcel (a fulfilment): carrier, tracking number and link, each when given. */
export function ParcelTracking({ parcel }: { parcel: { carrier: string; tracking_number: string; tracking_url: string } }) {
  return (
    <>
      {parcel.carrier && ` · ${parcel.carrier}`}
      {parcel.tracking_number && (
        <>
          {" "}
          · tracking <strong>{parcel.tracking_number}</strong>
        </>
      )}
      {parcel.tracking_url && (
        <>
          {" "}
          ·{" "}
          <a href={parcel.tracking_url} target="_blank" rel="noreferrer noopener">
            follow the parcel
          </a>
        </>
      )}
    </>
  );
}
