// Small inline icons (no icon font, no emoji: phones and headless browsers without an emoji font showed boxes).
const common = { width: 24, height: 24, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 2, strokeLinecap: 'round', strokeLinejoin: 'round', 'aria-hidden': true } as const;

export const CameraIcon = () => (
  <svg {...common}><path d="M4 8h3l2-3h6l2 3h3v11H4z" /><circle cx="12" cy="13" r="3.5" /></svg>
);
export const ImageIcon = () => (
  <svg {...common}><rect x="3" y="4" width="18" height="16" rx="2" /><circle cx="9" cy="10" r="2" /><path d="M21 16l-5-5-9 9" /></svg>
);
export const LeafIcon = () => (
  <svg {...common}><path d="M5 19C5 10 11 4 20 4c0 9-6 15-15 15z" /><path d="M5 19l8-8" /></svg>
);
export const ClockIcon = () => (
  <svg {...common}><circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 2" /></svg>
);
export const GearIcon = () => (
  <svg {...common}><circle cx="12" cy="12" r="3" /><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1" /></svg>
);
export const WarningIcon = () => (
  <svg {...common}><path d="M12 3l10 18H2z" /><path d="M12 10v5M12 18v.5" /></svg>
);
export const TeachIcon = () => (
  <svg {...common}><path d="M5 19C5 10 11 4 20 4c0 9-6 15-15 15z" /><path d="M12 8v8M8 12h8" /></svg>
);
