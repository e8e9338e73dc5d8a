/** A timestamp from the API in the reader's locale, or `empty` when there is none. */
export function formatDate(value, empty = "—") {
  return value ? new Date(value).toLocaleString() : empty;
}
