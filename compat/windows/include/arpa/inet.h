/* <arpa/inet.h> on Windows: Winsock has the socket API (compat/windows/compat.h
 * says why these stand-ins exist). */
#pragma once
#include <winsock2.h>
#include <ws2tcpip.h>
