/** Participant names: 1–24 letters, digits, `_`, `-`, `.`; unique regardless of case. */
export const MAX_NAME = 24;
const NAME = /^[A-Za-z0-9_.-]{1,24}$/;

/** Why a name cannot be used, or null when it is well-formed. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return "a name is needed";
  if (name.length > MAX_NAME) return `a name is at most ${MAX_NAME} characters`;
  if (!NAME.test(name))
    return "a name may have only ASCII letters, digits, '_', '-' and '.' (letters of other scripts could imitate another name)";
  return null;
}

/** The one key names are compared by (so `Alice` and `alice` are one name). */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/** Room names (`/join`, a cluster's `--room`): like member names, so that a cluster's keys and listening lines stay readable. */
const ROOM = /^[A-Za-z0-9_.-]{1,64}$/;
export function roomProblem(room: string): string | null {
  return ROOM.test(room) ? null : "a room name is 1–64 letters, digits, '_', '-' and '.'";
}
