import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';

const KEYS: [string, string][] = [
  ['Space', 'help.keys.space'],
  ['←', 'help.keys.left'],
  ['→', 'help.keys.right'],
  ['R', 'help.keys.r'],
  ['P', 'help.keys.p'],
  ['C', 'help.keys.c'],
  ['L', 'help.keys.l'],
  ['?', 'help.keys.help'],
  ['Esc', 'help.keys.esc'],
];

export function HelpOverlay({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="help" onClose={onClose} aria-labelledby="help-title" data-testid="help-overlay">
      <h2 id="help-title">{t('help.title')}</h2>
      <table>
        <tbody>
          {KEYS.map(([k, label]) => (
            <tr key={k}>
              <th scope="row">
                <kbd>{k}</kbd>
              </th>
              <td>{t(label)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" className="btn primary" onClick={onClose} autoFocus>
        {t('help.close')}
      </button>
    </dialog>
  );
}
