export { AccountPage } from './components/AccountPage';
export { AuthForm } from './components/AuthForm';
export { AccountControl } from './components/AccountControl';
