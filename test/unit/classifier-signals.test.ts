import { describe, expect, it } from 'vitest';
import { detectLanguage, detectSentiment, detectUrgency } from '../../server/triage/classifier/signals.ts';

describe('detectLanguage', () => {
  it.each([
    ['en', 'I cannot find the export button on my timesheet, can you help me?'],
    ['en', 'How do I invite my team to the board?'],
    ['de', 'Ich kann meine Rechnung nicht finden, wo ist sie?'],
    ['de', 'Die Zeiterfassung funktioniert nicht mehr seit dem letzten Update'],
    ['fr', "Je n'arrive pas à exporter mes heures, pouvez-vous m'aider ?"],
    ['fr', 'Bonjour, comment puis-je changer mon mot de passe ?'],
    ['es', 'No puedo encontrar mi factura, ¿dónde está?'],
    ['es', 'Hola, quiero cambiar el plan de mi cuenta por favor'],
    ['pt', 'Não consigo encontrar a minha fatura, onde ela está?'],
    ['pt', 'Olá, eu quero mudar o plano da minha conta'],
    ['it', 'Non riesco a trovare la mia fattura, dove si trova?'],
    ['it', 'Ciao, vorrei cambiare il piano del mio account per favore'],
    ['nl', 'Ik kan mijn factuur niet vinden, waar is die?'],
    ['nl', 'Hallo, hoe kan ik het abonnement van mijn account wijzigen?'],
  ])('detects %s in %j', (language, text) => {
    expect(detectLanguage(text)).toBe(language);
  });

  it('says unknown for empty or signal-free text', () => {
    expect(detectLanguage('')).toBe('unknown');
    expect(detectLanguage('12345 !!!')).toBe('unknown');
    expect(detectLanguage('xkcd qwrtp')).toBe('unknown');
  });
});

describe('detectUrgency', () => {
  it.each([
    ['high', 'The whole app is down for everyone in our company'],
    ['high', "We can't log in and have a client demo, this is urgent"],
    ['high', 'Production sync is broken and we are losing money'],
    ['high', 'Dringend: wir können uns nicht anmelden, kann mich nicht anmelden'],
    ['high', 'No puedo iniciar sesión desde esta mañana'],
    ['medium', 'The CSV export is not working'],
    ['medium', 'I was charged twice this month'],
    ['medium', 'Der Export funktioniert nicht'],
    ['low', 'How do I change my time zone?'],
    ['low', 'Can I get a copy of last month’s invoice when you have a moment?'],
  ])('%s for %j', (urgency, text) => {
    expect(detectUrgency(text)).toBe(urgency);
  });
});

describe('detectSentiment', () => {
  it('is positive for thanks and neutral for a plain question', () => {
    expect(detectSentiment('Thanks, that was really helpful, great support!').score).toBeGreaterThan(0.3);
    const neutral = detectSentiment('How do I export my timesheet?');
    expect(neutral.score).toBe(0);
    expect(neutral.frustrated).toBe(false);
  });

  it('flags repeat contacts and "still not fixed" language as frustrated', () => {
    expect(detectSentiment('This is the third time I write about this, still not fixed').frustrated).toBe(true);
    expect(detectSentiment('Export is still broken after your update').frustrated).toBe(true);
    expect(detectSentiment('Das Problem besteht immer noch').frustrated).toBe(true);
    expect(detectSentiment('How do I export?', 2).frustrated).toBe(true);
    expect(detectSentiment('How do I export?', 1).frustrated).toBe(false);
  });

  it('reads shouting and repeated punctuation as negative', () => {
    const calm = detectSentiment('the export is broken');
    const loud = detectSentiment('THE EXPORT IS BROKEN AGAIN!!!');
    expect(loud.score).toBeLessThan(calm.score);
    expect(loud.frustrated).toBe(true);
    expect(loud.score).toBeGreaterThanOrEqual(-1);
  });
});
