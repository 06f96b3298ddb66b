/** Text shown back to a caller or stored from a third party, cut to a bound (… marks the cut). */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
