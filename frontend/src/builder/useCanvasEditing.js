// The canvas's edits: palette items dropped or picked, nodes moved, edges drawn, parts
// deleted, agents copied and pasted. Each goes through `editTeam(fn)`, so it lands on the
// team in view as it is at that moment, and is one undoable step.

import { useCallback } from "react";
import { requestJson } from "../api.js";
import { TEAM_ID } from "./Canvas.jsx";
import { agentId, seatOfId } from "./edges.js";
import { plural } from "./Notices.jsx";
import {
  addParticipants,
  applyToAgent,
  applyToTeam,
  copyAgents,
  participantForItem,
} from "./placing.js";
import {
  graphEdges,
  isObject,
  participantName,
  removeParticipants,
  replaceParticipant,
  withGraphEdges,
  withPositions,
} from "./spec.js";

// Palette items that add an agent when dropped beside (not on) one.
const MAKES_AGENTS = ["agent", "agent_template", "team_template", "model"];
const CLIPBOARD_KIND = "roundtable/agents";
let clipboard = null;

/**
 * `latest.current` holds the builder's state now ({team, selection, lists, catalog});
 * `show(kind, text)` puts up a notice; `canvas` is the canvas's handle.
 */
export function useCanvasEditing({
  editTeam,
  latest,
  urls,
  show,
  canvas,
  setSelection,
  setSelectedEdge,
  setTab,
}) {
  const placeAgents = useCallback(
    (participants, position) => {
      let seats = [];
      editTeam((inner) => {
        const result = addParticipants(inner, participants, position);
        seats = result.seats;
        return result.team;
      });
      if (seats.length) {
        setSelection(seats.map(agentId));
        setTab("agent");
      }
      return seats;
    },
    [editTeam],
  );

  const fetchTemplate = useCallback(
    async (item) => {
      if (item.type !== "team_template") return null;
      try {
        return await requestJson(`${urls.teams}/${item.id}`);
      } catch (error) {
        show("error", `Could not load that team: ${error.message}`);
        return undefined;
      }
    },
    [urls, show],
  );

  /** A palette item dropped at `position` (flow coordinates), on node `targetId` or not. */
  const placeItem = useCallback(
    async (item, { targetId, position }) => {
      const template = await fetchTemplate(item);
      if (template === undefined) return;
      const context = { catalog: latest.current.catalog, lists: latest.current.lists, template };
      const seat = seatOfId(targetId);
      let outcome = null;
      if (seat >= 0 && latest.current.team.participants[seat]) {
        editTeam((inner) => {
          outcome = applyToAgent(inner, seat, item, context);
          return outcome?.team || inner;
        });
      } else if (targetId === TEAM_ID || !MAKES_AGENTS.includes(item.type)) {
        editTeam((inner) => {
          outcome = applyToTeam(inner, item, context);
          return outcome?.team || inner;
        });
      }
      if (outcome?.error) {
        show("error", outcome.error);
        return;
      }
      if (outcome) {
        show(null);
        if (item.type === "condition") {
          setTab("team");
          setSelection([TEAM_ID]);
        } else if (seat >= 0) {
          setSelection([targetId]);
          setTab("agent");
        }
        return;
      }
      const participant = participantForItem(item, context);
      if (participant) placeAgents([participant], position || canvas.current?.freeSpot());
    },
    [editTeam, fetchTemplate, placeAgents, show],
  );

  /** A palette item picked with the keyboard: onto the selected agent, or beside the others. */
  const pickItem = useCallback(
    (item) => {
      const chosen = latest.current.selection.filter((id) => id !== TEAM_ID);
      if (item.type === "condition") {
        placeItem(item, { targetId: TEAM_ID, position: null });
        return;
      }
      const onAgent = ["model", "tool", "team_template"].includes(item.type);
      const targetId = onAgent && chosen.length ? chosen[chosen.length - 1] : null;
      if (item.type === "tool" && !targetId) {
        show("error", "Select an assistant first, then pick the tool (or drag it onto one).");
        return;
      }
      placeItem(item, { targetId, position: null });
    },
    [placeItem, show],
  );

  const moveNodes = useCallback(
    (moved) =>
      editTeam(
        (inner) => {
          const points = {};
          let teamPoint = null;
          for (const { id, position } of moved) {
            if (id === TEAM_ID) teamPoint = position;
            const seat = seatOfId(id);
            const agent = seat >= 0 ? inner.participants[seat] : null;
            if (agent) points[participantName(agent)] = position;
          }
          return withPositions(inner, points, teamPoint);
        },
        { group: `move:${moved.map((item) => item.id).join(",")}` },
      ),
    [editTeam],
  );

  const connect = useCallback(
    ({ source, target }) => {
      const from = seatOfId(source);
      const to = seatOfId(target);
      if (from < 0 || to < 0 || from === to) return;
      editTeam((inner) => {
        const fromName = participantName(inner.participants[from]);
        const toName = participantName(inner.participants[to]);
        if (inner.kind === "graph") {
          const edges = graphEdges(inner);
          const isDrawn = edges.some((edge) => edge.source === fromName && edge.target === toName);
          if (isDrawn) return inner;
          const edge = { source: fromName, target: toName, condition: null };
          return withGraphEdges(inner, [...edges, edge]);
        }
        if (inner.kind === "swarm") {
          const agent = inner.participants[from];
          const handoffs = Array.isArray(agent.handoffs) ? agent.handoffs : [];
          if (handoffs.includes(toName)) return inner;
          return replaceParticipant(inner, from, { ...agent, handoffs: [...handoffs, toName] });
        }
        return inner;
      });
    },
    [editTeam],
  );

  const deleteParts = useCallback(
    ({ nodes, edges }) => {
      const seats = nodes.map(seatOfId).filter((seat) => seat >= 0);
      editTeam((inner) => {
        let next = inner;
        const dropped = new Set(
          edges.map((edge) => edge.data?.graphIndex).filter((index) => index !== undefined),
        );
        if (dropped.size) {
          next = withGraphEdges(
            next,
            graphEdges(next).filter((_, index) => !dropped.has(index)),
          );
        }
        const pairs = edges.flatMap((edge) => edge.data?.pairs || []);
        if (pairs.length) {
          next = {
            ...next,
            participants: next.participants.map((agent, seat) => {
              const gone = pairs.filter((pair) => pair.from === seat).map((pair) => pair.target);
              if (!gone.length || !Array.isArray(agent.handoffs)) return agent;
              return { ...agent, handoffs: agent.handoffs.filter((name) => !gone.includes(name)) };
            }),
          };
        }
        return seats.length ? removeParticipants(next, seats) : next;
      });
      if (seats.length) setSelection([]);
      setSelectedEdge(null);
    },
    [editTeam],
  );

  const copy = useCallback(() => {
    const seats = latest.current.selection.map(seatOfId).filter((seat) => seat >= 0);
    if (!seats.length) return;
    clipboard = { kind: CLIPBOARD_KIND, agents: copyAgents(latest.current.team, seats) };
    navigator.clipboard?.writeText(JSON.stringify(clipboard)).catch(() => {});
    show("ok", `Copied ${plural(seats.length, "agent")}.`);
  }, [show]);

  const paste = useCallback(async () => {
    let copied = clipboard;
    if (!copied) {
      try {
        const text = await navigator.clipboard.readText();
        const parsed = JSON.parse(text);
        if (parsed?.kind === CLIPBOARD_KIND && Array.isArray(parsed.agents)) copied = parsed;
      } catch {
        copied = null;
      }
    }
    if (!copied?.agents?.length) {
      show("error", "Nothing to paste: copy agents first (select them, then Copy).");
      return;
    }
    const first = copied.agents[0].position;
    // Pasted agents land a little below and right of where the first copied one sat.
    const start = first ? { x: first.x + 155, y: first.y + 95 } : canvas.current?.freeSpot();
    placeAgents(
      copied.agents
        .filter((entry) => isObject(entry.participant))
        .map((entry) => entry.participant),
      start,
    );
    show("ok", `Pasted ${plural(copied.agents.length, "agent")}.`);
  }, [placeAgents, show]);


  return { placeAgents, placeItem, pickItem, moveNodes, connect, deleteParts, copy, paste };
}
