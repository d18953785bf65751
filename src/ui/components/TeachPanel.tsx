// Teach the model a class from the farmer's own photos, and manage the classifiers kept on this phone
// (switch, rename, delete, share as one file, import, back to the model's own).
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ADVISED_PHOTOS, MAX_NOTE_LENGTH, MIN_TEACH_PHOTOS } from '../../engine/index';
import { className, LANGUAGES, loadAllLanguages } from '../../i18n/index';
import { useAppStore } from '../../store/index';
import {
  addTeachPhotos, deleteHead, exportHead, importHead, keepTeachPhoto, loadHeadLibrary, removeTeachPhoto, renameHead,
  saveTaughtClass, switchHead,
} from '../../store/teachActions';
import type { SavedHead, TeachPhoto } from '../../store/teachSlice';
import { CameraIcon, ImageIcon } from './Icons';
import { ErrorMessage } from './ErrorMessage';
import { saveFile } from '../saveFile';
import { TeachNoticeView } from './TeachNotice';
import { takeFiles } from '../fileInput';

const selectTeachPhotos = (s: ReturnType<typeof useAppStore.getState>) => s.teachPhotos;
const selectTeachBusy = (s: ReturnType<typeof useAppStore.getState>) => s.teachBusy;
const selectTeachNotice = (s: ReturnType<typeof useAppStore.getState>) => s.teachNotice;
const selectHeads = (s: ReturnType<typeof useAppStore.getState>) => s.heads;
const selectActiveHeadId = (s: ReturnType<typeof useAppStore.getState>) => s.activeHeadId;
const selectHeadsNotice = (s: ReturnType<typeof useAppStore.getState>) => s.headsNotice;
const selectModel = (s: ReturnType<typeof useAppStore.getState>) => s.model;
const selectModelStatus = (s: ReturnType<typeof useAppStore.getState>) => s.modelStatus;

/** Every name a shipped class is shown under, in every language: a taught class may not repeat one. */
function reservedNames(i18n: ReturnType<typeof useTranslation>['i18n'], labels: readonly string[]): string[] {
  return labels.flatMap((label) => LANGUAGES.map((l) => (i18n.exists(`classes.${label}`) ? i18n.t(`classes.${label}`, { lng: l.code }) : label)));
}

export function TeachPanel() {
  const { t } = useTranslation();
  const status = useAppStore(selectModelStatus);
  useEffect(() => { if (status === 'ready') void loadHeadLibrary(); }, [status]);
  return (
    <div className="teach-panel" data-testid="teach-panel">
      <TeachClassCard />
      <HeadsCard />
      <p className="hint">{t('teach.privacy')}</p>
    </div>
  );
}

function TeachClassCard() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const model = useAppStore(selectModel);
  const photos = useAppStore(selectTeachPhotos);
  const busy = useAppStore(selectTeachBusy);
  const notice = useAppStore(selectTeachNotice);
  const [name, setName] = useState('');
  const [note, setNote] = useState('');
  const kept = photos.filter((p) => p.keep).length;
  const checking = photos.some((p) => p.status === 'checking');
  useEffect(() => { void loadAllLanguages(i18n).catch(() => undefined); }, [i18n]); // ready before Save (retried there)

  function onFiles(event: React.ChangeEvent<HTMLInputElement>) {
    const files = takeFiles(event.target);
    if (files.length > 0) void addTeachPhotos(files);
  }

  async function onSave(event: React.FormEvent) {
    event.preventDefault();
    // The other languages' strings are chunks loaded on demand: all of them are needed for the reserved names.
    const languages = await loadAllLanguages(i18n).then(() => null, (error: unknown) => error);
    if (languages !== null) {
      useAppStore.getState().setAppError({ code: 'language-load', message: t('app.languageFailed'), detail: String(languages) });
      return;
    }
    const ok = await saveTaughtClass({ name, note, reservedNames: model ? reservedNames(i18n, model.labels) : [] });
    if (ok) { setName(''); setNote(''); }
  }

  const progress = kept < MIN_TEACH_PHOTOS
    ? t('teach.needMore', { count: kept, min: MIN_TEACH_PHOTOS, more: MIN_TEACH_PHOTOS - kept })
    : kept < ADVISED_PHOTOS
      ? t('teach.enoughButMore', { count: kept, advised: ADVISED_PHOTOS, more: ADVISED_PHOTOS - kept })
      : t('teach.plenty', { count: kept });

  return (
    <section className="card teach" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('teach.heading')}</h2>
      <p>{t('teach.intro', { min: MIN_TEACH_PHOTOS, advised: ADVISED_PHOTOS })}</p>
      {model && !model.canTeach && <p className="notice warning" data-testid="teach-unavailable">{t('teach.noStatistics')}</p>}
      <form onSubmit={(e) => void onSave(e)}>
        <label className="field">
          <span>{t('teach.name')}</span>
          <input type="text" value={name} maxLength={80} data-testid="teach-name" placeholder={t('teach.namePlaceholder')} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('teach.note')}</span>
          <textarea value={note} maxLength={MAX_NOTE_LENGTH} rows={3} data-testid="teach-note" placeholder={t('teach.notePlaceholder')} onChange={(e) => setNote(e.target.value)} />
          <small>{t('teach.noteHint')}</small>
        </label>
        <div className="picker-buttons">
          <div className="file-pick">
            <input id={`${id}-camera`} className="visually-hidden" type="file" accept="image/*" capture="environment" data-testid="teach-camera" onChange={onFiles} />
            <label className="button secondary big" htmlFor={`${id}-camera`}><CameraIcon /> {t('teach.takePhoto')}</label>
          </div>
          <div className="file-pick">
            <input id={`${id}-files`} className="visually-hidden" type="file" accept="image/*" multiple data-testid="teach-photos" onChange={onFiles} />
            <label className="button secondary big" htmlFor={`${id}-files`}><ImageIcon /> {t('teach.choosePhotos')}</label>
          </div>
        </div>
        <p className="teach-progress" data-testid="teach-progress" data-kept={kept} aria-live="polite">{progress}</p>
        {photos.length > 0 && (
          <ul className="teach-photos" data-testid="teach-photo-list">
            {photos.map((p) => <TeachPhotoItem key={p.id} photo={p} />)}
          </ul>
        )}
        <button type="submit" className="button primary big" data-testid="teach-save" disabled={busy} aria-busy={busy || checking}>
          {busy ? t('teach.saving') : t('teach.save')}
        </button>
      </form>
      <TeachNoticeView notice={notice} testId="teach-notice" />
    </section>
  );
}

function TeachPhotoItem({ photo }: { photo: TeachPhoto }) {
  const { t } = useTranslation();
  // A photo left out by a check but kept by the farmer says so, instead of still reading "left out".
  const texts = photo.keep && (photo.status === 'not-leaf' || photo.status === 'quality') ? 'teach.keptStatus' : 'teach.photoStatus';
  const statusText = photo.status === 'quality'
    ? t(`${texts}.quality`, { issues: (photo.issues ?? []).map((i) => t(`teach.issues.${i}`)).join(', ') })
    : photo.status === 'ok' && photo.novel ? t('teach.photoStatus.novel') : t(`${texts}.${photo.status}`);
  return (
    <li className={`teach-photo ${photo.status}`} data-testid="teach-photo" data-status={photo.status} data-keep={photo.keep ? 'true' : 'false'} data-novel={photo.novel ? 'true' : 'false'}>
      {photo.previewUrl ? <img src={photo.previewUrl} alt="" width={56} height={56} /> : <span className="teach-photo-blank" />}
      <span className="teach-photo-text">
        <span className="teach-photo-name">{photo.name}</span>
        <span className="hint">{statusText}</span>
        {photo.status === 'error' && photo.error && <ErrorMessage error={photo.error} />}
      </span>
      <span className="teach-photo-actions">
        {(photo.status === 'not-leaf' || photo.status === 'quality') && (
          <label className="keep-anyway">
            <input type="checkbox" checked={photo.keep} data-testid="teach-keep" onChange={(e) => keepTeachPhoto(photo.id, e.target.checked)} />
            {t('teach.keepAnyway')}
          </label>
        )}
        <button type="button" className="button secondary small" data-testid="teach-remove" onClick={() => removeTeachPhoto(photo.id)}>{t('teach.remove')}</button>
      </span>
    </li>
  );
}

function HeadsCard() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const heads = useAppStore(selectHeads);
  const activeId = useAppStore(selectActiveHeadId);
  const model = useAppStore(selectModel);
  const notice = useAppStore(selectHeadsNotice);

  function onImport(event: React.ChangeEvent<HTMLInputElement>) {
    const [file] = takeFiles(event.target);
    if (file) void importHead(file);
  }

  return (
    <section className="card heads" aria-labelledby={`${id}-h`} data-testid="heads">
      <h2 id={`${id}-h`}>{t('teach.headsHeading')}</h2>
      {model && <p className="hint" data-testid="active-classes">{t('teach.activeClasses', { classes: model.labels.map((l) => className(i18n, l)).join(', ') })}</p>}
      <ul className="head-list">
        <li className="head-item" data-testid="head-item" data-shipped="true" data-active={activeId === null ? 'true' : 'false'}>
          <span className="head-name">{t('teach.shippedHead')}</span>
          <span className="head-actions">
            {activeId === null
              ? <span className="ok-text">{t('teach.inUse')}</span>
              : <button type="button" className="button secondary small" data-testid="head-use-shipped" onClick={() => void switchHead(null)}>{t('teach.restoreShipped')}</button>}
            <button type="button" className="button secondary small" data-testid="head-export-shipped" onClick={() => { const f = exportHead(null); if (f && activeId === null) saveFile(new Blob([f.text], { type: 'application/json' }), f.fileName); }} hidden={activeId !== null}>{t('teach.export')}</button>
          </span>
        </li>
        {heads.map((h) => <HeadItem key={h.id} head={h} active={h.id === activeId} />)}
      </ul>
      <div className="field">
        <label className="button secondary file-button">
          {t('teach.import')}
          <input type="file" accept=".json,application/json" className="visually-hidden" data-testid="head-import" onChange={onImport} />
        </label>
        <small>{t('teach.importHint')}</small>
      </div>
      <TeachNoticeView notice={notice} testId="heads-notice" />
    </section>
  );
}

function HeadItem({ head, active }: { head: SavedHead; active: boolean }) {
  const { t } = useTranslation();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(head.name);
  const labels = Array.isArray(head.head.labels) ? (head.head.labels as string[]) : [];
  const local = head.head.taught && typeof head.head.taught === 'object'
    ? Object.values((head.head.taught as { local_examples?: Record<string, number> }).local_examples ?? {}).reduce((a, b) => a + b, 0) : 0;
  return (
    <li className="head-item" data-testid="head-item" data-name={head.name} data-active={active ? 'true' : 'false'}>
      {renaming ? (
        <form className="head-rename" onSubmit={(e) => { e.preventDefault(); void renameHead(head.id, name).then(() => setRenaming(false)); }}>
          <input type="text" value={name} maxLength={80} data-testid="head-rename-input" aria-label={t('teach.rename')} onChange={(e) => setName(e.target.value)} />
          <button type="submit" className="button primary small" data-testid="head-rename-save">{t('teach.renameSave')}</button>
        </form>
      ) : (
        <span className="head-name">
          {head.name}
          <small> · {t(`teach.origin.${head.origin}`)} · {t('teach.classCount', { count: labels.length })}{local > 0 ? ` · ${t('teach.localExamples', { count: local })}` : ''}</small>
        </span>
      )}
      <span className="head-actions">
        {active ? <span className="ok-text">{t('teach.inUse')}</span>
          : <button type="button" className="button secondary small" data-testid="head-use" onClick={() => void switchHead(head.id)}>{t('teach.use')}</button>}
        {!renaming && <button type="button" className="button secondary small" data-testid="head-rename" onClick={() => { setName(head.name); setRenaming(true); }}>{t('teach.rename')}</button>}
        <button type="button" className="button secondary small" data-testid="head-export" onClick={() => { const f = exportHead(head.id); if (f) saveFile(new Blob([f.text], { type: 'application/json' }), f.fileName); }}>{t('teach.export')}</button>
        <button
          type="button" className="button danger-outline small" data-testid="head-delete"
          onClick={() => { if (window.confirm(t('teach.confirmDelete', { name: head.name }))) void deleteHead(head.id); }}
        >
          {t('teach.delete')}
        </button>
      </span>
    </li>
  );
}
