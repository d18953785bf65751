// Getting a photo in: the camera (phones), the file picker, drag-and-drop and paste (desktop), or a sample.
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { choosePhoto } from '../../store/actions';
import { toUiError } from '../../store/errors';
import { useAppStore } from '../../store/index';
import { className } from '../../i18n/index';
import { CameraIcon, ImageIcon } from './Icons';
import { takeFiles } from '../fileInput';

export // The buttons show 128-pixel thumbnails (~5 kB each); the 256-pixel photo is fetched when a sample is tried, so
// the first screen does not download ~78 kB of photos nobody may tap.
const SAMPLES = [
  { label: 'angular_leaf_spot', url: 'samples/angular_leaf_spot.jpg', thumb: 'samples/angular_leaf_spot.thumb.jpg' },
  { label: 'bean_rust', url: 'samples/bean_rust.jpg', thumb: 'samples/bean_rust.thumb.jpg' },
  { label: 'healthy', url: 'samples/healthy.jpg', thumb: 'samples/healthy.thumb.jpg' },
] as const;

function firstFile(list: FileList | DataTransferItemList | null | undefined): File | null {
  if (!list) return null;
  for (const item of Array.from(list as ArrayLike<File | DataTransferItem>)) {
    const file = item instanceof File ? item : item.kind === 'file' ? item.getAsFile() : null;
    if (file) return file;
  }
  return null;
}

/** `compact`: once a photo is on screen, only the two buttons stay, so the result sits higher up. */
export function PhotoPicker({ compact = false }: { compact?: boolean }) {
  const { t, i18n } = useTranslation();
  const cameraId = useId();
  const galleryId = useId();
  const [dragging, setDragging] = useState(false);

  // Paste anywhere on the page (desktop): an image on the clipboard becomes the photo.
  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const file = firstFile(event.clipboardData?.files);
      if (file) {
        event.preventDefault();
        void choosePhoto(file, file.name || 'pasted image');
      }
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, []);

  function onInput(event: React.ChangeEvent<HTMLInputElement>) {
    const [file] = takeFiles(event.target);
    if (file) void choosePhoto(file, file.name);
  }

  async function trySample(url: string, label: string) {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
      await choosePhoto(await response.blob(), `${label}.jpg`);
    } catch (error) {
      useAppStore.getState().setAppError(toUiError(error, 'load-file'));
    }
  }

  return (
    <section
      className={`card picker${dragging ? ' dragging' : ''}${compact ? ' compact' : ''}`}
      aria-labelledby={`${cameraId}-h`}
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        const file = firstFile(e.dataTransfer.files);
        if (file) void choosePhoto(file, file.name);
      }}
    >
      <h2 id={`${cameraId}-h`} className="visually-hidden">{t('photo.heading')}</h2>
      <div className="picker-buttons">
        {/* Each input precedes its label so the label can show the (hidden) input's keyboard focus. */}
        <div className="file-pick">
          <input
            id={cameraId} className="visually-hidden" type="file" accept="image/*" capture="environment"
            data-testid="photo-input" onChange={onInput}
          />
          <label className="button primary big" htmlFor={cameraId}>
            <CameraIcon /> {t('photo.takePhoto')}
          </label>
        </div>
        <div className="file-pick">
          <input id={galleryId} className="visually-hidden" type="file" accept="image/*" data-testid="gallery-input" onChange={onInput} />
          <label className="button secondary big" htmlFor={galleryId}>
            <ImageIcon /> {t('photo.choosePhoto')}
          </label>
        </div>
      </div>
      <p className="hint drop-hint">{t('photo.dropHint')}</p>
      {!compact && <p className="hint">{t('photo.tips')}</p>}
      {!compact && <p className="samples-title">{t('photo.samples')}</p>}
      <ul className="samples" hidden={compact}>
        {SAMPLES.map((s) => (
          <li key={s.label}>
            <button type="button" className="sample" data-testid={`sample-${s.label}`} onClick={() => void trySample(s.url, s.label)}>
              <img src={s.thumb} alt="" width={64} height={64} />
              <span>{t('photo.sample', { label: className(i18n, s.label) })}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
