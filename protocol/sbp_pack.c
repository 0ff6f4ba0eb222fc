/* sbp_pack.c — packing of the MessagePack-RPC envelopes and small string
 * helpers. The *_begin functions leave exactly one object (params map or
 * result) for the caller to pack; packers never fail except on allocation in
 * the caller's buffer, which msgpack-c reports through the packer's writer.
 */
#include <string.h>

#include "protocol/sbp_internal.h"

void sbp_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, s, n);
}

void sbp_pack_str(msgpack_packer *pk, const char *s)
{
        sbp_pack_strn(pk, s, strlen(s));
}

void sbp_pack_request_begin(msgpack_packer *pk, uint32_t msgid, const char *method)
{
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint8(pk, SBP_REQUEST);
        msgpack_pack_uint32(pk, msgid);
        sbp_pack_str(pk, method);
        msgpack_pack_array(pk, 1);
}

void sbp_pack_notification_begin(msgpack_packer *pk, const char *method)
{
        msgpack_pack_array(pk, 3);
        msgpack_pack_uint8(pk, SBP_NOTIFICATION);
        sbp_pack_str(pk, method);
        msgpack_pack_array(pk, 1);
}

void sbp_pack_response_begin(msgpack_packer *pk, uint32_t msgid)
{
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint8(pk, SBP_RESPONSE);
        msgpack_pack_uint32(pk, msgid);
        msgpack_pack_nil(pk);
}

void sbp_pack_response_error(msgpack_packer *pk, uint32_t msgid, const struct sbp_error *err)
{
        enum sbp_error_code code = err->code;
        const char *message = err->message;

        /* An error response always carries an error: SBP_OK here is our bug,
         * and answering Internal beats answering success. */
        if (code == SBP_OK || (unsigned)code >= SBP_E__COUNT)
                code = SBP_E_INTERNAL;
        if (message[0] == '\0')
                message = sbp_error_text(code);

        msgpack_pack_array(pk, 4);
        msgpack_pack_uint8(pk, SBP_RESPONSE);
        msgpack_pack_uint32(pk, msgid);
        msgpack_pack_map(pk, 2);
        sbp_pack_str(pk, "code");
        sbp_pack_str(pk, sbp_error_name(code));
        sbp_pack_str(pk, "message");
        sbp_pack_strn(pk, message, strnlen(message, SBP_TEXT_MAX));
        msgpack_pack_nil(pk);
}
