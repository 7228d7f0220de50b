import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { DataTable, type Column, type RowId } from "./DataTable";

interface Row {
  id: number;
  title: string;
  stock: number;
}

const ROWS: Row[] = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, title: `Item ${String.fromCharCode(69 - i)}`, stock: (i * 7) % 5 }));
const COLUMNS: Column<Row>[] = [
  { id: "title", header: "Title", sortValue: (r) => r.title, cell: (r) => r.title },
  { id: "stock", header: "Stock", numeric: true, sortValue: (r) => r.stock, cell: (r) => r.stock },
];

const titles = () => screen.getAllByRole("row").slice(1).map((row) => within(row).getAllByRole("cell")[1]!.textContent);

describe("the admin's table", () => {
  it("sorts by a column, both ways, and says so", async () => {
    render(<DataTable caption="Items" rows={ROWS} columns={COLUMNS} rowId={(r) => r.id} selectable />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: /Title/ }));
    expect(titles()).toEqual(["Item A", "Item B", "Item C", "Item D", "Item E"]);
    expect(screen.getByRole("columnheader", { name: /Title/ })).toHaveAttribute("aria-sort", "ascending");
    await user.click(screen.getByRole("button", { name: /Title/ }));
    expect(titles()).toEqual(["Item E", "Item D", "Item C", "Item B", "Item A"]);
    expect(screen.getByRole("columnheader", { name: /Title/ })).toHaveAttribute("aria-sort", "descending");
  });

  it("pages through the rows, and asks the API for more at the end", async () => {
    const fetchNextPage = vi.fn(async () => {});
    render(
      <DataTable
        caption="Items"
        rows={ROWS}
        columns={COLUMNS}
        rowId={(r) => r.id}
        pageSize={2}
        more={{ hasNextPage: true, isFetchingNextPage: false, fetchNextPage }}
      />,
    );
    const user = userEvent.setup();
    expect(screen.getAllByRole("row")).toHaveLength(3);
    expect(screen.getByText("1–2 of 5+")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Previous" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Next" }));
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(screen.getByText("5–5 of 5+")).toBeInTheDocument();
    expect(fetchNextPage).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(fetchNextPage).toHaveBeenCalledTimes(1);
  });

  it("hands the selected ids to the bulk actions", async () => {
    const seen: RowId[][] = [];
    render(
      <DataTable
        caption="Items"
        rows={ROWS}
        columns={COLUMNS}
        rowId={(r) => r.id}
        rowLabel={(r) => r.title}
        selectable
        onSelectionChange={(ids) => seen.push(ids)}
        bulkActions={(ids, clear) => (
          <button type="button" onClick={clear}>
            Archive {ids.join(",")}
          </button>
        )}
      />,
    );
    const user = userEvent.setup();
    expect(screen.queryByRole("region", { name: "Selected rows" })).toBeNull();
    await user.click(screen.getByRole("checkbox", { name: "Select Item D" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Item B" }));
    expect(screen.getByText("2 selected")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Archive 2,4" })).toBeInTheDocument();
    await user.click(screen.getByRole("checkbox", { name: "Select all on this page" }));
    expect(seen.at(-1)).toHaveLength(5);
    await user.click(screen.getByRole("button", { name: /^Archive/ }));
    expect(seen.at(-1)).toEqual([]);
    expect(screen.queryByText(/selected/)).toBeNull();
  });
});
