// The field/plot new checks are tagged with: a text box offering the names used before (a datalist, so a new
// name can be typed too). Remembered on this phone across reloads.
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { FIELD_MAX_LENGTH } from '../../../history/fieldName';
import { chooseField, historyFields } from '../../../store/actions';
import { useAppStore } from '../../../store/index';
import { selectCurrentField } from '../../../store/selectors';
import { HISTORY_FIELDS_KEY } from '../../setup';

export function useFieldNames(): string[] {
  return useQuery({ queryKey: HISTORY_FIELDS_KEY, queryFn: historyFields }).data ?? [];
}

/** One datalist of the field names used so far, for every field box on the screen. */
export function FieldNamesList({ id }: { id: string }) {
  const fields = useFieldNames();
  return <datalist id={id}>{fields.map((f) => <option key={f} value={f} />)}</datalist>;
}

/** `inline`: a short label on the input's line, inside another card (the check screen's options). */
export function FieldPicker({ inline = false }: { inline?: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const field = useAppStore(selectCurrentField);
  return (
    <div className={inline ? 'field-picker inline' : 'field-picker card'}>
      <label htmlFor={`${id}-in`}>{t(inline ? 'history.field' : 'history.fieldForNew')}</label>
      <input
        id={`${id}-in`} data-testid="field-picker" list={`${id}-list`} value={field} maxLength={FIELD_MAX_LENGTH}
        placeholder={t('history.fieldPlaceholder')} autoComplete="off" aria-describedby={`${id}-hint`}
        onChange={(e) => useAppStore.getState().setCurrentField(e.target.value)}
        onBlur={(e) => chooseField(e.target.value)}
      />
      <small id={`${id}-hint`} className="visually-hidden">{t('history.fieldHint')}</small>
      <FieldNamesList id={`${id}-list`} />
    </div>
  );
}
