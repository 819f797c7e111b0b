export { BackupPanel } from './components/BackupPanel';
export { BackupIndicator } from './components/BackupIndicator';
export { useBackupEngine } from './hooks/useBackup';
