// "A new version is available": offered, never forced (the user may be mid-diagnosis).
import { useTranslation } from 'react-i18next';
import { useAppStore } from '../../store/index';
import { selectUpdateAvailable } from '../../store/selectors';
import { applyUpdate } from '../pwa';

export function UpdatePrompt() {
  const { t } = useTranslation();
  const available = useAppStore(selectUpdateAvailable);
  if (!available) return null;
  return (
    <div className="update-prompt" role="status" data-testid="update-prompt">
      <p>{t('update.available')}</p>
      <button type="button" className="button primary small" onClick={() => void applyUpdate()}>{t('update.reload')}</button>
      <button type="button" className="button secondary small" onClick={() => useAppStore.getState().setUpdateAvailable(false)}>{t('update.later')}</button>
    </div>
  );
}
