import { useEffect, useRef } from 'react';

/**
 * Moves focus to the first input the server refused, so keyboard and screen
 * reader users land on the message (`aria-describedby`) instead of hunting for it.
 */
export function useFocusInvalid(errors: Record<string, string>) {
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (Object.keys(errors).length === 0) return;
    formRef.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);
  return formRef;
}
