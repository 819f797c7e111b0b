import { registerSW } from 'virtual:pwa-register';

/** Registers the generated service worker (app shell cache) in production builds. */
export function registerServiceWorker(): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
  registerSW({ immediate: true });
}
