// Picks a model folder (manifest.json + files) from disk; the engine validates it when it loads.
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useAppStore } from '../../store/index';
import { toUiError } from '../../store/errors';
import { activateLocalModel, folderFromFiles, saveLocalModel } from '../localModel';
import { switchModel } from '../setup';
import { takeFiles } from '../fileInput';

export function LoadFolderButton() {
  const { t } = useTranslation();
  const id = useId();
  async function onChange(event: React.ChangeEvent<HTMLInputElement>) {
    const files = takeFiles(event.target);
    if (files.length === 0) return;
    const folder = folderFromFiles(files);
    const setAppError = useAppStore.getState().setAppError;
    if (!folder) {
      setAppError({ code: 'folder-incomplete', message: '', detail: files.map((f) => f.webkitRelativePath || f.name).join('\n') });
      return;
    }
    const url = activateLocalModel(folder);
    switchModel(url);
    // Kept for the next visit; a full disk only means it must be chosen again next time.
    try { await saveLocalModel(folder); } catch (error) { setAppError(toUiError(error, 'storage')); }
  }
  return (
    <label className="button secondary file-button" htmlFor={id}>
      {t('model.loadFolder')}
      <input
        id={id} type="file" className="visually-hidden" data-testid="model-folder-input" multiple
        onChange={(e) => void onChange(e)}
        // Non-standard but supported by Chromium, Firefox and Safari: pick a whole folder.
        {...{ webkitdirectory: '', directory: '' }}
      />
    </label>
  );
}
