import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// Placeholder until the UI lands (issue 4).
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <main>Leaf Lens</main>
  </StrictMode>,
);
