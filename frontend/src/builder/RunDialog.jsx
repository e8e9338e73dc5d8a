import { useState } from "react";
import { ProblemList } from "./Notices.jsx";

/**
 * Asks for a task (and an optional budget) and starts a run of the saved team. When the team
 * cannot run, it lists every reason (known beforehand in `reasons`, or from the server's
 * answer), each leading to its field.
 */
export function RunDialog({ dialogRef, reasons, onStart, onPick }) {
  const [task, setTask] = useState("");
  const [budgetTokens, setBudgetTokens] = useState("");
  const [budgetUsd, setBudgetUsd] = useState("");
  const [error, setError] = useState(null);
  const [isStarting, setStarting] = useState(false);
  const shown = error?.problems?.length ? error.problems : reasons;
  const submit = async (event) => {
    event.preventDefault();
    setStarting(true);
    setError(null);
    try {
      const budget = {
        tokens: budgetTokens ? Number(budgetTokens) : null,
        usd: budgetUsd ? Number(budgetUsd) : null,
      };
      await onStart(task.trim(), budget.tokens || budget.usd ? budget : null);
    } catch (problem) {
      setError({ message: problem.message, problems: problem.problems || [] });
      setStarting(false);
    }
  };
  const pick = (item) => {
    dialogRef.current.close();
    onPick(item);
  };
  return (
    <dialog ref={dialogRef} aria-labelledby="run-dialog-title" onClose={() => setError(null)}>
      <form onSubmit={submit}>
        <h2 id="run-dialog-title">Run this team</h2>
        {shown.length > 0 && (
          <div className="notice notice-error run-reasons" role="alert">
            <strong>
              {error?.message || "This team cannot run yet"}: {shown.length} reason
              {shown.length === 1 ? "" : "s"}.
            </strong>
            <ProblemList items={shown} onPick={pick} label="Why the team cannot run" />
          </div>
        )}
        <div className="field">
          <label htmlFor="run-task">Task</label>
          <textarea
            id="run-task"
            rows={4}
            value={task}
            required
            placeholder="What should the team do?"
            onChange={(event) => setTask(event.target.value)}
          />
        </div>
        <fieldset>
          <legend>Budget (optional)</legend>
          <div className="field-row">
            <div className="field">
              <label htmlFor="run-budget-tokens">Max tokens</label>
              <input
                id="run-budget-tokens"
                type="number"
                min={1}
                value={budgetTokens}
                onChange={(event) => setBudgetTokens(event.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="run-budget-usd">Max cost (USD)</label>
              <input
                id="run-budget-usd"
                type="number"
                min={0}
                step="any"
                value={budgetUsd}
                onChange={(event) => setBudgetUsd(event.target.value)}
              />
            </div>
          </div>
          <p className="hint small muted">
            The run stops before a model call that would go past either limit.
          </p>
        </fieldset>
        {error && !error.problems.length && (
          <p className="error-text" role="alert">
            {error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialogRef.current.close()}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={isStarting || !task.trim()}>
            {isStarting ? "Starting…" : "Start run"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
