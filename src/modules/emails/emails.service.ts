/**
 * The e-mails other modules queue and count. E-mails are rows first (written in the transaction
 * of the change they tell about) and delivered afterwards by this module's job.
 */
export { countEmailsByStatus, insertEmails } from './emails.repository.js';
