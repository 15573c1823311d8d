"""Built-in system prompts in every supported language.

Admins replace any of them with a top-level ``prompts:`` section. The
``for_person``/``press`` pieces build the dial-by-name choice list ("For Ann
Lee, press 1") out of cacheable parts plus the person's name.
"""

from __future__ import annotations

from collections.abc import Mapping

from attendant.model import Prompt, Text

SUPPORTED_LANGUAGES = ("en-US", "fr-FR")

_TEXT: dict[str, dict[str, str]] = {
    "invalid": {"en-US": "Sorry, that is not a valid choice.",
                "fr-FR": "Désolé, ce choix n'est pas valide."},
    "no_input": {"en-US": "Sorry, I didn't hear a choice.",
                 "fr-FR": "Désolé, je n'ai entendu aucun choix."},
    "goodbye": {"en-US": "Thank you for calling. Goodbye.",
                "fr-FR": "Merci de votre appel. Au revoir."},
    "transferring": {"en-US": "Please hold while I transfer your call.",
                     "fr-FR": "Veuillez patienter, je transfère votre appel."},
    "unavailable": {"en-US": "Sorry, nobody is available to take your call.",
                    "fr-FR": "Désolé, personne n'est disponible pour prendre votre appel."},
    "please_hold": {"en-US": "Please hold.", "fr-FR": "Veuillez patienter."},
    "beep": {"en-US": "Beep.", "fr-FR": "Bip."},
    "voicemail_greeting": {
        "en-US": "Please leave a message after the tone. Press pound when you are done.",
        "fr-FR": "Veuillez laisser un message après le signal sonore. "
                 "Appuyez sur dièse lorsque vous avez terminé."},
    "voicemail_thanks": {"en-US": "Thank you, your message has been saved. Goodbye.",
                         "fr-FR": "Merci, votre message a été enregistré. Au revoir."},
    "voicemail_failed": {
        "en-US": "Sorry, we cannot take your message right now. Please call again later. "
                 "Goodbye.",
        "fr-FR": "Désolé, nous ne pouvons pas enregistrer votre message pour le moment. "
                 "Merci de rappeler plus tard. Au revoir."},
    "voicemail_not_available": {"en-US": "is not available.",
                                "fr-FR": "n'est pas disponible."},
    "voicemail_full": {
        "en-US": "Sorry, this mailbox is full and cannot take any more messages.",
        "fr-FR": "Désolé, cette messagerie est pleine et ne peut plus recevoir de messages."},
    "dial_by_name": {
        "en-US": "Please spell the name of the person you are calling using your keypad, "
                 "then press pound. Press star to go back.",
        "fr-FR": "Veuillez épeler le nom de votre correspondant avec le clavier, puis appuyez "
                 "sur dièse. Appuyez sur étoile pour revenir."},
    "dial_by_name_no_match": {"en-US": "Sorry, nobody matches that name.",
                              "fr-FR": "Désolé, aucun nom ne correspond."},
    "dial_by_name_too_few": {"en-US": "Please enter a few more letters.",
                             "fr-FR": "Veuillez saisir quelques lettres de plus."},
    "dial_by_name_too_many": {"en-US": "Several people match. Please enter more letters.",
                              "fr-FR": "Plusieurs personnes correspondent. "
                                       "Veuillez saisir plus de lettres."},
    "dial_by_extension": {"en-US": "Please enter the extension, then press pound.",
                          "fr-FR": "Veuillez composer le numéro de poste, puis appuyez sur dièse."},
    "enter_extension": {"en-US": "Please enter the extension.",
                        "fr-FR": "Veuillez composer le numéro de poste."},
    "dial_by_extension_star": {"en-US": "Please enter the extension, then press star.",
                               "fr-FR": "Veuillez composer le numéro de poste, puis appuyez "
                                        "sur étoile."},
    "no_such_extension": {"en-US": "Sorry, there is no such extension.",
                          "fr-FR": "Désolé, ce numéro de poste n'existe pas."},
    "for_person": {"en-US": "For", "fr-FR": "Pour"},
    "press": {"en-US": "press", "fr-FR": "appuyez sur"},
    "queue_position": {"en-US": "You are number", "fr-FR": "Vous êtes le numéro"},
    "queue_position_end": {"en-US": "in line.", "fr-FR": "dans la file d'attente."},
    "queue_wait": {"en-US": "Your estimated wait is about",
                   "fr-FR": "Votre attente est estimée à environ"},
    "queue_wait_more": {"en-US": "Your wait may be more than",
                        "fr-FR": "Votre attente pourrait dépasser"},
    "queue_minute": {"en-US": "minute.", "fr-FR": "minute."},
    "queue_minutes": {"en-US": "minutes.", "fr-FR": "minutes."},
    "queue_full": {"en-US": "Sorry, all our lines are busy. Please call again later. Goodbye.",
                   "fr-FR": "Désolé, toutes nos lignes sont occupées. Veuillez rappeler plus "
                            "tard. Au revoir."},
    "queue_timeout": {"en-US": "Sorry, nobody could take your call in time. Please call again "
                               "later. Goodbye.",
                      "fr-FR": "Désolé, personne n'a pu prendre votre appel à temps. Veuillez "
                               "rappeler plus tard. Au revoir."},
    "queue_no_agents": {"en-US": "Sorry, nobody is available to take your call right now. "
                                 "Please call again later. Goodbye.",
                        "fr-FR": "Désolé, personne n'est disponible pour prendre votre appel. "
                                 "Veuillez rappeler plus tard. Au revoir."},
    "queue_callback_confirm": {
        "en-US": "Thank you. We will call you back at this number when it is your turn. Goodbye.",
        "fr-FR": "Merci. Nous vous rappellerons à ce numéro quand ce sera votre tour. Au revoir."},
    "queue_callback_offer": {
        "en-US": "To be called back when it is your turn, without losing your place, press",
        "fr-FR": "Pour être rappelé quand ce sera votre tour, sans perdre votre place, "
                 "appuyez sur"},
    "queue_callback_refused": {
        "en-US": "Sorry, we cannot call this number back. Please stay on the line.",
        "fr-FR": "Désolé, nous ne pouvons pas rappeler ce numéro. Veuillez rester en ligne."},
    "pin_prompt": {"en-US": "Please enter your PIN, then press pound.",
                   "fr-FR": "Veuillez saisir votre code, puis appuyez sur dièse."},
    "pin_wrong": {"en-US": "Sorry, that PIN is not correct.",
                  "fr-FR": "Désolé, ce code n'est pas correct."},
    "pin_not_set": {"en-US": "Sorry, feature codes need a PIN, and none is set for you. "
                             "Please ask your administrator.",
                    "fr-FR": "Désolé, les codes de service demandent un code personnel, et "
                             "aucun n'est défini pour vous. Adressez-vous à votre "
                             "administrateur."},
    "agent_signed_in": {"en-US": "You are signed in to your queues.",
                        "fr-FR": "Vous êtes connecté à vos files d'attente."},
    "agent_signed_out": {"en-US": "You are signed out of your queues.",
                         "fr-FR": "Vous êtes déconnecté de vos files d'attente."},
    "agent_opted_in": {"en-US": "You will now receive calls from this queue.",
                       "fr-FR": "Vous recevrez désormais les appels de cette file d'attente."},
    "agent_opted_out": {"en-US": "You will no longer receive calls from this queue.",
                        "fr-FR": "Vous ne recevrez plus les appels de cette file d'attente."},
    "agent_unknown": {"en-US": "Sorry, this phone is not recognised as an agent's phone.",
                      "fr-FR": "Désolé, ce téléphone n'est pas reconnu comme celui d'un agent."},
    "override_set": {"en-US": "Done. The line has been switched.",
                     "fr-FR": "C'est fait. La ligne a été basculée."},
    "override_cleared": {"en-US": "Done. The line is back on its usual hours.",
                         "fr-FR": "C'est fait. La ligne a repris ses horaires habituels."},
    "override_refused": {"en-US": "Sorry, this phone may not switch the line.",
                         "fr-FR": "Désolé, ce téléphone ne peut pas basculer la ligne."},
    "star_to_retry": {"en-US": "Press star to spell again.",
                      "fr-FR": "Appuyez sur étoile pour recommencer."},
    # The mailbox menu (attendant.engine.mailbox); counts and envelopes put numbers,
    # digits and a date between these pieces.
    "mailbox_number": {"en-US": "Please enter your mailbox number, then press pound.",
                       "fr-FR": "Veuillez saisir le numéro de votre messagerie, puis appuyez "
                                "sur dièse."},
    "mailbox_pin": {"en-US": "Please enter your PIN, then press pound. To open another "
                             "mailbox, press star.",
                    "fr-FR": "Veuillez saisir votre code, puis appuyez sur dièse. Pour ouvrir "
                             "une autre messagerie, appuyez sur étoile."},
    "mailbox_no_pin": {"en-US": "Sorry, this mailbox has no PIN yet. Please ask your "
                                "administrator to set one.",
                       "fr-FR": "Désolé, cette messagerie n'a pas encore de code. Demandez à "
                                "votre administrateur d'en définir un."},
    "mailbox_locked": {"en-US": "Sorry, too many wrong PINs were entered. Please try again "
                                "later.",
                       "fr-FR": "Désolé, trop de codes erronés ont été saisis. Veuillez "
                                "réessayer plus tard."},
    "mailbox_failed": {"en-US": "Sorry, your messages cannot be reached right now. Please "
                                "try again later.",
                       "fr-FR": "Désolé, vos messages sont inaccessibles pour le moment. "
                                "Veuillez réessayer plus tard."},
    "mailbox_you_have": {"en-US": "You have", "fr-FR": "Vous avez"},
    "mailbox_new_one": {"en-US": "new message", "fr-FR": "nouveau message"},
    "mailbox_new_many": {"en-US": "new messages", "fr-FR": "nouveaux messages"},
    "mailbox_and": {"en-US": "and", "fr-FR": "et"},
    "mailbox_saved_one": {"en-US": "saved message", "fr-FR": "message enregistré"},
    "mailbox_saved_many": {"en-US": "saved messages", "fr-FR": "messages enregistrés"},
    "mailbox_menu": {
        "en-US": "To listen to your new messages, press 1. For your saved messages, press 2. "
                 "For deleted messages, press 3. For your greetings, press 5. To change your "
                 "PIN, press 8. To hang up, press star.",
        "fr-FR": "Pour écouter vos nouveaux messages, appuyez sur 1. Pour vos messages "
                 "enregistrés, appuyez sur 2. Pour les messages supprimés, appuyez sur 3. "
                 "Pour vos annonces, appuyez sur 5. Pour changer votre code, appuyez sur 8. "
                 "Pour raccrocher, appuyez sur étoile."},
    "mailbox_folder_empty": {"en-US": "There are no messages here.",
                             "fr-FR": "Il n'y a aucun message ici."},
    "mailbox_message": {"en-US": "Message", "fr-FR": "Message"},
    "mailbox_received": {"en-US": "received", "fr-FR": "reçu le"},
    "mailbox_from": {"en-US": "from", "fr-FR": "de la part du"},
    "mailbox_unknown_caller": {"en-US": "from an unknown number",
                               "fr-FR": "d'un numéro inconnu"},
    "mailbox_length": {"en-US": "length", "fr-FR": "durée"},
    "mailbox_seconds": {"en-US": "seconds", "fr-FR": "secondes"},
    "mailbox_message_options": {
        "en-US": "To hear the message again, press 1. To save it, press 2. To delete or "
                 "undelete it, press 3. For the previous message, press 4, for the next, "
                 "press 6. To hear when it came, press 5. To call back, press 8. While it "
                 "plays, press 7 to go back a few seconds and 9 to go forward. For the main "
                 "menu, press star.",
        "fr-FR": "Pour réécouter le message, appuyez sur 1. Pour l'enregistrer, appuyez "
                 "sur 2. Pour le supprimer ou le restaurer, appuyez sur 3. Pour le message "
                 "précédent, appuyez sur 4, pour le suivant, sur 6. Pour savoir quand il est "
                 "arrivé, appuyez sur 5. Pour rappeler, appuyez sur 8. Pendant l'écoute, "
                 "appuyez sur 7 pour reculer de quelques secondes et sur 9 pour avancer. "
                 "Pour le menu principal, appuyez sur étoile."},
    "mailbox_saved": {"en-US": "Message saved.", "fr-FR": "Message enregistré."},
    "mailbox_deleted": {"en-US": "Message deleted.", "fr-FR": "Message supprimé."},
    "mailbox_undeleted": {"en-US": "Message restored.", "fr-FR": "Message restauré."},
    "mailbox_no_more": {"en-US": "There are no more messages.",
                        "fr-FR": "Il n'y a plus de messages."},
    "mailbox_first": {"en-US": "This is the first message.",
                      "fr-FR": "C'est le premier message."},
    "mailbox_cannot_call_back": {"en-US": "Sorry, this caller cannot be called back from "
                                          "here.",
                                 "fr-FR": "Désolé, ce correspondant ne peut pas être rappelé "
                                          "d'ici."},
    "mailbox_new_pin": {"en-US": "Please enter your new PIN, 4 to 12 digits, then press "
                                 "pound. To cancel, press star.",
                        "fr-FR": "Veuillez saisir votre nouveau code, de 4 à 12 chiffres, "
                                 "puis appuyez sur dièse. Pour annuler, appuyez sur étoile."},
    "mailbox_confirm_pin": {"en-US": "Please enter the new PIN again, then press pound.",
                            "fr-FR": "Veuillez saisir à nouveau le nouveau code, puis "
                                     "appuyez sur dièse."},
    "mailbox_pin_invalid": {"en-US": "Sorry, a PIN has 4 to 12 digits.",
                            "fr-FR": "Désolé, un code compte de 4 à 12 chiffres."},
    "mailbox_pin_mismatch": {"en-US": "Sorry, the two PINs were not the same. Your PIN has "
                                      "not changed.",
                             "fr-FR": "Désolé, les deux codes sont différents. Votre code "
                                      "n'a pas changé."},
    "mailbox_pin_changed": {"en-US": "Your PIN has been changed.",
                            "fr-FR": "Votre code a été changé."},
    "mailbox_greetings_menu": {
        "en-US": "To record your unavailable greeting, press 1. Your busy greeting, press 2. "
                 "Your name, press 3. A temporary greeting, which callers hear instead of the "
                 "others, press 4. To remove your temporary greeting, press 6. For the main "
                 "menu, press star.",
        "fr-FR": "Pour enregistrer votre annonce d'absence, appuyez sur 1. Votre annonce "
                 "d'occupation, sur 2. Votre nom, sur 3. Une annonce temporaire, que vos "
                 "correspondants entendront à la place des autres, sur 4. Pour supprimer "
                 "votre annonce temporaire, appuyez sur 6. Pour le menu principal, appuyez "
                 "sur étoile."},
    "mailbox_record_greeting": {"en-US": "Record your greeting after the tone. Press pound "
                                         "when you are done.",
                                "fr-FR": "Enregistrez votre annonce après le signal sonore. "
                                         "Appuyez sur dièse lorsque vous avez terminé."},
    "mailbox_record_name": {"en-US": "Say your name after the tone. Press pound when you are "
                                     "done.",
                            "fr-FR": "Dites votre nom après le signal sonore. Appuyez sur "
                                     "dièse lorsque vous avez terminé."},
    "mailbox_greeting_is": {"en-US": "Here is your recording.",
                            "fr-FR": "Voici votre enregistrement."},
    "mailbox_greeting_review": {"en-US": "To keep it, press 1. To record it again, press 2. "
                                         "To hear it again, press 3. To cancel, press star.",
                                "fr-FR": "Pour le garder, appuyez sur 1. Pour le "
                                         "réenregistrer, appuyez sur 2. Pour le réécouter, "
                                         "appuyez sur 3. Pour annuler, appuyez sur étoile."},
    "mailbox_greeting_saved": {"en-US": "Your greeting has been saved.",
                               "fr-FR": "Votre annonce a été enregistrée."},
    "mailbox_greeting_not_saved": {"en-US": "Sorry, that recording cannot be used. Your "
                                            "greeting has not changed.",
                                   "fr-FR": "Désolé, cet enregistrement est inutilisable. "
                                            "Votre annonce n'a pas changé."},
    "mailbox_greeting_removed": {"en-US": "Your temporary greeting has been removed.",
                                 "fr-FR": "Votre annonce temporaire a été supprimée."},
    "mailbox_pin_not_changed": {"en-US": "Sorry, your PIN could not be changed. Please try "
                                         "again later.",
                                "fr-FR": "Désolé, votre code n'a pas pu être changé. "
                                         "Veuillez réessayer plus tard."},
}

#: The names admins may override under ``prompts:`` (the dial-by-name list pieces are internal).
OVERRIDABLE = tuple(k for k in _TEXT if k not in ("for_person", "press", "star_to_retry"))


def _build() -> dict[str, Prompt]:
    return {
        name: Prompt(f"system.{name}",
                     tuple((lang, (Text(text, lang),)) for lang, text in table.items()))
        for name, table in _TEXT.items()
    }


DEFAULTS: Mapping[str, Prompt] = _build()
