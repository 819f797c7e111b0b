export { PracticePage } from './components/PracticePage';
