// One bound zustand store combined from the slices. Components read it through the module-scope
// selectors in `selectors.ts`; the engine's callbacks and async work go through `actions.ts`.
import { create } from 'zustand';
import {
  createExplainSlice, createFieldCheckSlice, createHistorySlice, createModelSlice, createPhotoSlice, createUiSlice, type AppState,
} from './slices';
import { createTeachSlice } from './teachSlice';

export const useAppStore = create<AppState>()((...a) => ({
  ...createModelSlice(...a),
  ...createPhotoSlice(...a),
  ...createExplainSlice(...a),
  ...createUiSlice(...a),
  ...createHistorySlice(...a),
  ...createFieldCheckSlice(...a),
  ...createTeachSlice(...a),
}));

const initialState = useAppStore.getState();

/** Back to the state of a fresh page (tests call it before each case). */
export function resetAppStore(): void {
  useAppStore.setState(initialState, true);
}

export type { AppState } from './slices';
