#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell -noinput
%%
%% Writes real OTP-made mnesia backup files (as EMQX's data export does) and
%% times OTP's own backup / restore, for the emqx-backup Rust tests/benches.
%%
%%   write FILE TABLE COUNT [PAD]
%%     Fresh mnesia (temp dir, node nonode@nohost), creates TABLE (EMQX
%%     definition, disc_copies), dirty_writes COUNT synthetic records
%%     (N = 1..COUNT), then exactly like emqx_mgmt_data_backup:
%%       {ok, Tab, _} = mnesia:activate_checkpoint([{name, Tab}, {min, [Tab]},
%%                                                  {allow_remote, false}]),
%%       ok = mnesia:backup_checkpoint(Tab, FILE),
%%       mnesia:deactivate_checkpoint(Tab)
%%     PAD (default 0) appends PAD bytes of $x to one binary field of every
%%     record (see gen/3), e.g. to get items >= 65528 bytes (disk_log MD5).
%%     emqx_authn_mnesia records (PAD = 0):
%%       {user_info, {'mqtt:global', <<"user-N">>}, <<64 hex>>, <<32 hex>>, false}
%%     stdout: backup_ms=<ms of backup_checkpoint/2>\nfile_bytes=<size>\n
%%
%%   restore-time FILE TABLE
%%     Fresh mnesia with TABLE created, then
%%     mnesia:restore(FILE, [{default_op, keep_tables}]); must be {atomic,[TABLE]}.
%%     stdout: restore_ms=<ms of restore/2>\nrows=<table size after restore>\n
%%
%% Exit status 0 on success, non-zero with a message on stderr otherwise.
%% Table definitions are duplicated from mnesia_oracle.escript; keep in sync.

-mode(compile).

tables() ->
    [
        {emqx_banned, set, banned, [who, by, reason, at, until]},
        {emqx_banned_rules, set, banned, [who, by, reason, at, until]},
        {emqx_authn_mnesia, ordered_set, user_info, [user_id, password_hash, salt, is_superuser]},
        {emqx_authn_mnesia_ns, ordered_set, emqx_authn_mnesia_ns,
            [user_id, password_hash, salt, is_superuser, extra]},
        {emqx_authn_scram_mnesia, ordered_set, user_info,
            [user_id, stored_key, server_key, salt, is_superuser]},
        {emqx_authn_scram_mnesia_ns, ordered_set, emqx_authn_scram_mnesia_ns,
            [user_id, stored_key, server_key, salt, is_superuser, extra]},
        {emqx_acl, ordered_set, emqx_acl, [who, rules]},
        {emqx_acl_ns, ordered_set, emqx_acl_ns, [who, rules, extra]},
        {emqx_admin, set, emqx_admin, [username, pwdhash, description, role, extra]},
        {emqx_app, set, emqx_app,
            [name, api_key, api_secret_hash, enable, extra, expired_at, created_at]},
        {emqx_psk, ordered_set, psk_entry, [psk_id, shared_secret, extra]},
        {emqx_retainer_message, ordered_set, retained_message, [topic, msg, expiry_time]},
        {emqx_mt_config, ordered_set, emqx_mt_config, [key, configs, extra]}
    ].

main(Args) ->
    _ = logger:set_primary_config(level, critical),
    try run(Args) of
        ok -> halt(0)
    catch
        throw:{usage, Msg} ->
            io:format(standard_error, "error: ~s~n~s", [Msg, usage()]),
            halt(2);
        C:R:St ->
            io:format(standard_error, "failed: ~p:~p~n~p~n", [C, R, St]),
            halt(1)
    end.

usage() ->
    "usage:\n"
    "  write_fixture.escript write FILE TABLE COUNT [PAD]\n"
    "  write_fixture.escript restore-time FILE TABLE\n".

run(["write", File, Table, Count]) ->
    write(File, table(Table), int(Count), 0);
run(["write", File, Table, Count, Pad]) ->
    write(File, table(Table), int(Count), int(Pad));
run(["restore-time", File, Table]) ->
    restore_time(File, table(Table));
run(_) ->
    throw({usage, "bad arguments"}).

int(S) ->
    try list_to_integer(S) of
        I when I >= 0 -> I;
        _ -> throw({usage, "negative number: " ++ S})
    catch
        error:badarg -> throw({usage, "not a number: " ++ S})
    end.

table(Name) ->
    Tab = list_to_atom(Name),
    case lists:keyfind(Tab, 1, tables()) of
        false -> throw({usage, "unknown table: " ++ Name});
        Def -> Def
    end.

%%--------------------------------------------------------------------

write(File, {Tab, _, _, _} = Def, Count, PadLen) ->
    Pad = binary:copy(<<"x">>, PadLen),
    with_mnesia(Def, fun() ->
        write_records(Tab, 1, Count, Pad),
        AbsFile = filename:absname(File),
        ok = filelib:ensure_dir(AbsFile),
        {ok, Tab, _Nodes} = mnesia:activate_checkpoint(
            [{name, Tab}, {min, [Tab]}, {allow_remote, false}]
        ),
        try
            T0 = erlang:monotonic_time(microsecond),
            ok = mnesia:backup_checkpoint(Tab, AbsFile),
            T1 = erlang:monotonic_time(microsecond),
            io:format("backup_ms=~b~n", [(T1 - T0) div 1000]),
            io:format("file_bytes=~b~n", [filelib:file_size(AbsFile)])
        after
            mnesia:deactivate_checkpoint(Tab)
        end
    end).

write_records(_Tab, N, Count, _Pad) when N > Count -> ok;
write_records(Tab, N, Count, Pad) ->
    ok = mnesia:dirty_write(Tab, gen(Tab, N, Pad)),
    write_records(Tab, N + 1, Count, Pad).

restore_time(File, {Tab, _, _, _} = Def) ->
    with_mnesia(Def, fun() ->
        T0 = erlang:monotonic_time(microsecond),
        Res = mnesia:restore(File, [{default_op, keep_tables}]),
        T1 = erlang:monotonic_time(microsecond),
        case Res of
            {atomic, [Tab]} ->
                io:format("restore_ms=~b~n", [(T1 - T0) div 1000]),
                io:format("rows=~b~n", [mnesia:table_info(Tab, size)]);
            Other ->
                error({restore_failed, Other})
        end
    end).

with_mnesia({Tab, Type, RecName, Attrs}, Fun) ->
    Base =
        case os:getenv("TMPDIR") of
            false -> "/tmp";
            "" -> "/tmp";
            T -> T
        end,
    Dir = filename:join(
        Base,
        lists:flatten(
            io_lib:format("write_fixture_~s_~b", [os:getpid(), erlang:unique_integer([positive])])
        )
    ),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    try
        ok = application:load(mnesia),
        ok = application:set_env(mnesia, dir, Dir),
        ok = mnesia:create_schema([node()]),
        ok = mnesia:start(),
        {atomic, ok} = mnesia:create_table(Tab, [
            {type, Type},
            {disc_copies, [node()]},
            {record_name, RecName},
            {attributes, Attrs}
        ]),
        ok = mnesia:wait_for_tables([Tab], 30000),
        Fun(),
        ok
    after
        _ = (catch mnesia:stop()),
        _ = file:del_dir_r(Dir)
    end.

%%--------------------------------------------------------------------
%% Synthetic records (tagged with the record_name, as mnesia:dirty_write/2
%% wants them). Pad goes into the field marked "<- Pad".

gen(emqx_authn_mnesia, N, Pad) ->
    {user_info, {'mqtt:global', user(N)}, <<(hex64(N))/binary, Pad/binary>>, hex32(N), false};
gen(emqx_authn_mnesia_ns, N, Pad) ->
    {emqx_authn_mnesia_ns, {'mqtt:global', user(N)}, <<(hex64(N))/binary, Pad/binary>>,
        hex32(N), false, #{}};
gen(emqx_authn_scram_mnesia, N, Pad) ->
    {user_info, {'mqtt:global', user(N)}, <<(hex64(N))/binary, Pad/binary>>, hex64(-N),
        hex32(N), false};
gen(emqx_authn_scram_mnesia_ns, N, Pad) ->
    {emqx_authn_scram_mnesia_ns, {'mqtt:global', user(N)}, <<(hex64(N))/binary, Pad/binary>>,
        hex64(-N), hex32(N), false, #{}};
gen(Tab, N, Pad) when Tab =:= emqx_banned; Tab =:= emqx_banned_rules ->
    {banned, {clientid, <<"client-", (i2b(N))/binary>>}, <<"mgmt_api">>,
        <<"reason-", (i2b(N))/binary, Pad/binary>>, 1700000000 + N, 1800000000 + N};
gen(emqx_acl, N, Pad) ->
    {emqx_acl, {1, user(N)}, acl_rules(N, Pad)};
gen(emqx_acl_ns, N, Pad) ->
    {emqx_acl_ns, {1, user(N)}, acl_rules(N, Pad), #{}};
gen(emqx_admin, N, Pad) ->
    {emqx_admin, <<"admin-", (i2b(N))/binary>>, <<(hex64(N))/binary, Pad/binary>>,
        <<"desc">>, <<"administrator">>, #{}};
gen(emqx_app, N, Pad) ->
    {emqx_app, <<"app-", (i2b(N))/binary>>, hex32(N), <<(hex64(N))/binary, Pad/binary>>, true,
        #{desc => <<>>, role => <<"administrator">>}, infinity, 1700000000 + N};
gen(emqx_psk, N, Pad) ->
    {psk_entry, <<"psk-", (i2b(N))/binary>>, <<(hex32(N))/binary, Pad/binary>>, #{}};
gen(emqx_retainer_message, N, Pad) ->
    Topic = <<"t/", (i2b(N))/binary>>,
    Msg =
        {message, erlang:md5(Topic), 0, <<"client">>, #{dup => false, retain => true},
            #{proto_ver => 5, protocol => mqtt, retained => true}, Topic,
            <<"payload-", (i2b(N))/binary, Pad/binary>>, 1700000000000 + N, #{}},
    {retained_message, [<<"t">>, i2b(N)], Msg, 0};
gen(emqx_mt_config, N, Pad) ->
    {emqx_mt_config, {<<"ns-", (i2b(N))/binary>>, root}, #{<<"k">> => <<(i2b(N))/binary, Pad/binary>>},
        #{}}.

acl_rules(N, Pad) ->
    [{allow, {all, [{qos, [0, 1, 2]}, {retain, all}]}, <<"t/", (i2b(N))/binary, Pad/binary>>}].

user(N) -> <<"user-", (i2b(N))/binary>>.

i2b(N) -> integer_to_binary(N).

hex32(N) -> hex(erlang:md5(term_to_binary({salt, N}))).
hex64(N) ->
    hex(<<(erlang:md5(term_to_binary({h1, N})))/binary, (erlang:md5(term_to_binary({h2, N})))/binary>>).

hex(Bin) -> string:lowercase(binary:encode_hex(Bin)).
