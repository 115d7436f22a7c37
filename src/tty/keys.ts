/** What each key does in the line editor: Emacs-style editing, as shells and readline have it. */
/** A key as node:readline's keypress events describe it. */
export interface Key {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
  sequence?: string;
}

/** The editing actions keys are bound to (the line editor's). */
export interface Editing {
  submit(): void;
  interrupt(): void;
  endOfInput(): void;
  deleteBack(): void;
  deleteForward(): void;
  deleteWordBack(): void;
  left(): void;
  right(): void;
  wordLeft(): void;
  wordRight(): void;
  moveTo(offset: number): void;
  killToStart(): void;
  killToEnd(): void;
  historyStep(step: number): void;
  complete(): void;
  clearScreen(): void;
}

type Edit = (editor: Editing) => void;

/** By key name as node:readline's keypress events give it, `C-` for Ctrl and `M-` for Alt. */
export const KEYS: Record<string, Edit> = {
  return: (e) => e.submit(),
  enter: (e) => e.submit(),
  "C-m": (e) => e.submit(),
  "C-j": (e) => e.submit(),
  "C-c": (e) => e.interrupt(),
  "C-d": (e) => e.endOfInput(),
  backspace: (e) => e.deleteBack(),
  "C-h": (e) => e.deleteBack(),
  delete: (e) => e.deleteForward(),
  left: (e) => e.left(),
  "C-b": (e) => e.left(),
  right: (e) => e.right(),
  "C-f": (e) => e.right(),
  home: (e) => e.moveTo(0),
  "C-a": (e) => e.moveTo(0),
  end: (e) => e.moveTo(Number.MAX_SAFE_INTEGER),
  "C-e": (e) => e.moveTo(Number.MAX_SAFE_INTEGER),
  "M-b": (e) => e.wordLeft(),
  "M-left": (e) => e.wordLeft(),
  "C-left": (e) => e.wordLeft(),
  "M-f": (e) => e.wordRight(),
  "M-right": (e) => e.wordRight(),
  "C-right": (e) => e.wordRight(),
  "C-u": (e) => e.killToStart(),
  "C-k": (e) => e.killToEnd(),
  "C-w": (e) => e.deleteWordBack(),
  "M-backspace": (e) => e.deleteWordBack(),
  up: (e) => e.historyStep(-1),
  "C-p": (e) => e.historyStep(-1),
  down: (e) => e.historyStep(1),
  "C-n": (e) => e.historyStep(1),
  tab: (e) => e.complete(),
  "C-l": (e) => e.clearScreen(),
};
