export { useTranscriptionEngine, useTranscriptionRows } from './hooks/useTranscription';
export { TranscriptionPanel, TranscribedNote } from './components/TranscriptionPanel';
