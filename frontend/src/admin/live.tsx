// The shop's live-update stream (Server-Sent Events at /api/admin/v1/live, served by
// the ASGI process; docs/live-updates.md). Read with fetch(), not EventSource, so it
// carries the same Authorization header as every Admin API call (and refreshes the
// token on a 401). New orders, status changes and low stock refresh the lists that
// show them; import and export progress goes to whoever listens.
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { shopOrigin, type Session } from "../api/client";
import { useSession } from "./session";
import { queryKeys } from "./queryKeys";

export interface LiveEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

type Listener = (event: LiveEvent) => void;
export type LiveState = "connecting" | "live" | "offline";

/** Split a text/event-stream buffer into complete events and the unfinished rest. */
export function parseEvents(buffer: string): { events: LiveEvent[]; rest: string } {
  const events: LiveEvent[] = [];
  const blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let id = "";
    let type = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue; // a comment: the heartbeat
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) continue;
    try {
      events.push({ id, type, data: JSON.parse(data.join("\n")) as Record<string, unknown> });
    } catch {
      // Not JSON: not one of ours.
    }
  }
  return { events, rest };
}

/** Read the stream until it ends or `signal` aborts; call `onEvent` for each event. */
async function readStream(
  session: Session,
  url: string,
  signal: AbortSignal,
  onOpen: () => void,
  onEvent: (event: LiveEvent) => void,
): Promise<void> {
  const response = await session.fetch(new Request(url, { headers: { Accept: "text/event-stream" }, signal }));
  if (!response.ok || !response.body) throw new Error(`live stream: ${response.status}`);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const parsed = parseEvents(buffer + value);
    buffer = parsed.rest;
    parsed.events.forEach(onEvent);
  }
}

interface Live {
  state: LiveState;
  subscribe: (listener: Listener) => () => void;
}

const LiveContext = createContext<Live>({ state: "offline", subscribe: () => () => undefined });

/** Keep the shop's stream open while its pages are shown; reconnect after a pause when it drops. */
export function LiveUpdates({ slug, domain, children }: { slug: string; domain: string; children: ReactNode }) {
  const session = useSession();
  const queries = useQueryClient();
  const listeners = useRef(new Set<Listener>());
  const [state, setState] = useState<LiveState>("connecting");

  useEffect(() => {
    const stop = new AbortController();
    const seen = new Set<string>();
    const onEvent = (event: LiveEvent) => {
      if (event.id && seen.has(event.id)) return; // delivered at least once: skip repeats
      if (event.id) seen.add(event.id);
      if (event.type.startsWith("order.")) {
        void queries.invalidateQueries({ queryKey: queryKeys.shop(slug).orders() });
        void queries.invalidateQueries({ queryKey: queryKeys.shop(slug).order() });
        void queries.invalidateQueries({ queryKey: queryKeys.shop(slug).sales() });
      }
      if (event.type === "inventory.low") void queries.invalidateQueries({ queryKey: queryKeys.shop(slug).inventory() });
      listeners.current.forEach((listener) => listener(event));
    };
    void (async () => {
      let pause = 1000;
      while (!stop.signal.aborted) {
        try {
          await readStream(
            session,
            `${shopOrigin(domain)}/api/admin/v1/live`,
            stop.signal,
            () => {
              setState("live");
              pause = 1000;
              // Whatever happened while the stream was down is not replayed: refresh.
              void queries.invalidateQueries({ queryKey: queryKeys.shop(slug).orders() });
            },
            onEvent,
          );
        } catch {
          // Dropped, refused or aborted: try again below unless the page left.
        }
        if (stop.signal.aborted) return;
        setState("offline");
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 30_000);
      }
    })();
    return () => stop.abort();
  }, [session, queries, slug, domain]);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const live = useMemo<Live>(() => ({ state, subscribe }), [state, subscribe]);
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

/** Call `listener` with each live event of the shop (stable across renders via a ref). */
export function useLiveEvents(listener: Listener): LiveState {
  const live = useContext(LiveContext);
  const current = useRef(listener);
  useEffect(() => {
    current.current = listener;
  });
  const { subscribe } = live;
  useEffect(() => subscribe((event) => current.current(event)), [subscribe]);
  return live.state;
}

export function LiveBadge() {
  const { state } = useContext(LiveContext);
  const label = { connecting: "Connecting…", live: "Live", offline: "Offline, reconnecting" }[state];
  return (
    <span className="badge" data-live={state} aria-live="polite" title="New orders and stock alerts appear without a reload">
      {label}
    </span>
  );
}
