import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './lib/i18n';
import './styles/app.css';
import { App } from './app/App';
import { initCore } from './lib/core';
import { registerServiceWorker } from './app/serviceWorker';

const root = createRoot(document.getElementById('root') as HTMLElement);

initCore()
  .then(() => {
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
  })
  .catch((e: unknown) => {
    root.render(<p role="alert">Echoloop could not start: {e instanceof Error ? e.message : String(e)}</p>);
  });

registerServiceWorker();
