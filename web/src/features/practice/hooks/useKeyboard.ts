import { useEffect, useRef } from 'react';

export interface KeyHandlers {
  toggle: () => void;
  previous: () => void;
  next: () => void;
  recordStart: () => void;
  recordStop: () => void;
  playTake: () => void;
  compare: () => void;
  loop: () => void;
  help: () => void;
}

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'range', 'button'].includes(type);
  }
  return false;
}

/** Practice shortcuts; ignored while typing or when a dialog is open. */
export function useKeyboard(handlers: KeyHandlers) {
  const ref = useRef(handlers);
  useEffect(() => {
    ref.current = handlers;
  });
  useEffect(() => {
    const down = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (document.querySelector('dialog[open]') && e.key !== '?') return;
      const h = ref.current;
      const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      switch (key) {
        case ' ':
          e.preventDefault();
          if (!e.repeat) h.toggle();
          break;
        case 'ArrowLeft':
          e.preventDefault();
          h.previous();
          break;
        case 'ArrowRight':
          e.preventDefault();
          h.next();
          break;
        case 'r':
          e.preventDefault();
          if (!e.repeat) h.recordStart();
          break;
        case 'p':
          h.playTake();
          break;
        case 'c':
          h.compare();
          break;
        case 'l':
          h.loop();
          break;
        case '?':
          e.preventDefault();
          h.help();
          break;
        default:
          return;
      }
    };
    const up = (e: KeyboardEvent) => {
      if (e.key.toLowerCase() === 'r') ref.current.recordStop();
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, []);
}
